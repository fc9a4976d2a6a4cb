export * from './cloud-run/index.js';
export * from './compute-fake/index.js';
export * from './cos-host/index.js';
export * from './docker-build.js';
export * from './emulator-snapshots.js';
export * from './firestore-emulator.js';
export * from './iap-relay/index.js';
export * from './tokens.js';
