import { run } from '@aws-containers/core';
import { printExecCredential } from './kubeconfig.js';
import { main } from './main.js';

// The bundle is also the exec credential plugin of the kubeconfig that write-kubeconfig writes.
if (process.argv[2] === 'token') await printExecCredential(process.argv.slice(3));
else await run(main);
