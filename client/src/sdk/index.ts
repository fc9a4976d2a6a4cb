export * from './auth.js';
export * from './errors.js';
export * from './http.js';
export * from './hub-client.js';
