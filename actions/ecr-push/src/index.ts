import { run } from '@aws-containers/core';
import { main, post } from './main.js';

await run(main, post);
