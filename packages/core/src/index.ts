// The one way to do each shared thing. Actions import only from here.
export * from './errors.js';
export * from './log.js';
export * from './inputs.js';
export * from './parse.js';
export * from './image-ref.js';
export * from './ecr-images.js';
export * from './aws.js';
export * from './api-calls.js';
export * from './format.js';
export * from './poll.js';
export * from './runner.js';
export * from './github.js';
export * from './registry/index.js';
export * from './kubernetes/index.js';
export * from './github-api.js';
export * from './preflight.js';
