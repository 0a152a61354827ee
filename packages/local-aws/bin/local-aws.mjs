#!/usr/bin/env node
// The `local-aws` command (npx local-aws, the package's bin): runs the TypeScript CLI in this very
// process through tsx's loader, with no tsx child process in between, so a signal sent to this
// process reaches the server.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli.ts');
