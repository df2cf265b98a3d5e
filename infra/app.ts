import { App } from 'aws-cdk-lib';

/**
 * The CDK app (`cdk.json` runs it). The gateway's stacks — S3 bucket, REST API with the
 * Gateway Responses of `gateway-responses.ts`, CloudFront with the `edge/` functions and
 * the key group — are added by the CDK issue; until then it synthesizes no stack.
 */
const app = new App();
app.synth();
