#!/usr/bin/env node
// The `signet` command: runs the TypeScript CLI through tsx's loader (a dev dependency).
import { register } from 'tsx/esm/api';

// The AWS SDK warns on every start that its 2027 releases need Node 22 (README, "Develop");
// its own switch turns that one notice off and leaves every other warning alone.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

// The parent as it is now, before the seconds of loading and starting: `signet dev` under npm
// stops once npm is gone, and npm may be killed in the meantime. (`npm start` names npm
// itself, `--parent-pid`, as even this may run too late: an orphan's parent is pid 1.)
process.env.SIGNET_PARENT_PID = String(process.ppid);

register();
await import('../cli/signet.ts');
