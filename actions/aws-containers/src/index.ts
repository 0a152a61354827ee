// The root action, `uses: <owner>/aws-containers@v1`: build or take an image, push it to ECR and
// deploy it to ECS on Fargate in one step. The post step logs docker out, as ecr-push's does.
import { run } from '@aws-containers/core';
import { main, post } from './main.js';

await run(main, post);
