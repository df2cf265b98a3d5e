// Minimal shapes of the CloudFront Functions event (runtime cloudfront-js-2.0).
// Type-only: erased at build, so the deployed code stays free of imports.

/** One query parameter, header or cookie; `multiValue` is present when it was repeated. */
export interface CfValue {
  value: string;
  multiValue?: { value: string }[];
}

/** Query parameters, headers or cookies by name (header names are lowercase). */
export type CfValues = Record<string, CfValue | undefined>;

/** The viewer's request as CloudFront hands it to a function. */
export interface CfRequest {
  method: string;
  /** The path, percent-encoded as received, without the query. */
  uri: string;
  querystring: CfValues;
  headers: CfValues;
  cookies: CfValues;
}

/** The response on its way to the viewer (viewer-response only). */
export interface CfResponse {
  statusCode: number;
  statusDescription?: string;
  headers: CfValues;
  cookies: CfValues;
}

/** The event CloudFront passes to `handler`. */
export interface CfEvent {
  version: string;
  context: {
    eventType: string;
    distributionDomainName?: string;
    distributionId?: string;
    requestId?: string;
  };
  viewer: { ip: string };
  request: CfRequest;
  response?: CfResponse;
}

/** The viewer-response event: `response` is always there. */
export interface CfResponseEvent extends CfEvent {
  response: CfResponse;
}
