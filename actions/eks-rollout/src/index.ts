import { run } from '@aws-containers/core';
import { main } from './main.js';

await run(main);
