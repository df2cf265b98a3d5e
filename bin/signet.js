#!/usr/bin/env node
// The `signet` command: runs the TypeScript CLI through tsx's loader (a dev dependency).
import { register } from 'tsx/esm/api';

register();
await import('../cli/signet.ts');
