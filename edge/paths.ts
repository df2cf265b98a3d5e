// The distribution's path patterns, one table for the CloudFront Functions, the signer, the
// local edge and the CDK stack to come, so all route alike.

/** Where the distribution serves objects from the private bucket: `/files/{key}`. */
export const FILES_PREFIX = '/files/';

/**
 * The prefixes the distribution sends to the REST API (path patterns `/d/*`, `/p/*`,
 * `/links*`; the last also matches `/linksX`, which the gateway, not the edge, answers 404).
 */
export const API_PREFIXES = ['/d/', '/p/', '/links'] as const;
