// A valid configuration, so that importing a handler module (which loads config at module
// scope, as on Lambda) works in unit tests. Tests that need other settings build their
// handler with the exported factories instead.
const defaults: Record<string, string> = {
  SIGNET_BUCKET: 'signet-test',
  SIGNET_REGION: 'us-east-1',
  SIGNET_ISSUER: 'https://issuer.test',
  SIGNET_AUDIENCE: 'signet',
  SIGNET_JWKS_URL: 'https://issuer.test/.well-known/jwks.json',
  AWS_ACCESS_KEY_ID: 'AKIDTEST',
  AWS_SECRET_ACCESS_KEY: 'test-secret',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
  // The AWS SDK's notice that its 2027 releases need Node 22 (README, "Develop"), once per
  // test file otherwise; bin/signet.js and the bench turn it off the same way.
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
};
for (const [name, value] of Object.entries(defaults)) process.env[name] ??= value;
