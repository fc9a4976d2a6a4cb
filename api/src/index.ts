export * from './api.js';
export * from './errors.js';
export * from './git-names.js';
export * from './hub-settings.js';
export * from './ids.js';
export * from './problem.js';
export * from './terminal.js';
export * from './workspace.js';
