export * from './frames.js';
export * from './sign.js';
export * from './codec.js';
export * from './messages.js';
export * from './connection-file.js';
