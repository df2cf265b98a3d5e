// What every test process shares. Credentials for an S3Client built without its own (the
// download wiring's default chain reads them here, never from a developer's AWS profile),
// and quiet logs.
const defaults: Record<string, string> = {
  AWS_ACCESS_KEY_ID: 'AKIDTEST',
  AWS_SECRET_ACCESS_KEY: 'test-secret',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
  // The AWS SDK's notice that its 2027 releases need Node 22 (README, "Develop"), once per
  // test file otherwise; bin/signet.js and the bench turn it off the same way.
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
};
for (const [name, value] of Object.entries(defaults)) process.env[name] ??= value;
