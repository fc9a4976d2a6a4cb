export * from './front-door.js';
export { checkInvoker, GCLOUD_CLIENT_ID, SIGNATURE_REMOVED, stripSignature } from './invoker.js';
