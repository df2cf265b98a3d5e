// Imported first by the bench: the AWS SDK warns on load that its 2027 releases need Node 22
// (README, "Develop"). Its own switch turns that one notice off, as `bin/signet.js` does.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
