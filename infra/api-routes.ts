/**
 * The REST API's resources and methods, and the Lambda behind each: one table for the
 * deployed API (the CDK stack makes a resource and a method of each entry) and the local
 * stand-in, so both route alike.
 */

/** The Lambda functions behind the API's routes (`api/handlers/{name}.ts`). */
export type RouteLambda = 'download';

export interface ApiRoute {
  readonly methods: readonly ('GET' | 'HEAD')[];
  /** The API Gateway resource path, `{proxy+}` for a greedy path parameter. */
  readonly resource: string;
  /** Whether the REQUEST authorizer guards it. */
  readonly authorize: boolean;
  readonly lambda: RouteLambda;
}

export const API_ROUTES: readonly ApiRoute[] = [
  { methods: ['GET', 'HEAD'], resource: '/d/{proxy+}', authorize: true, lambda: 'download' },
  // `/d/` (an empty key) reaches the route, which answers 400 as the contract says; a greedy
  // `{proxy+}` needs one character, so without this it would be "no such route".
  { methods: ['GET', 'HEAD'], resource: '/d', authorize: true, lambda: 'download' },
];
