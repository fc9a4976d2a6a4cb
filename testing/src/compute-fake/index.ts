export type { FakeInstance, FakeMethod, FakeStatus } from './model.js';
export { type ComputeFake, type FakeCall, startComputeFake } from './server.js';
