import { GoogleProvider } from '@cdktf/provider-google/lib/provider/index.js';
import { TimeProvider } from '@cdktf/provider-time/lib/provider/index.js';
import { TerraformStack } from 'cdktf';
import type { Construct } from 'constructs';
import { enableApis } from './apis.js';
import { defineEventarcReadiness } from './eventarc-readiness.js';
import { defineFirestore } from './firestore.js';
import { defineHubService } from './hub-service.js';
import { defineIapAccess } from './iap.js';
import { defineIdentities } from './identities.js';
import { defineNetwork } from './network.js';
import { defineOutputs } from './outputs.js';
import { defineReconcileFunction } from './reconcile-function.js';
import { defineRegistry } from './registry.js';
import { defineScheduler } from './scheduler.js';
import { defineVariables } from './variables.js';

/**
 * The whole deployment. The providers are declared only so CDKTF knows the
 * resource types; synthesis strips their blocks, so the module inherits the
 * caller's provider configuration like any Terraform module.
 */
export class WorkspaceHubStack extends TerraformStack {
  constructor(scope: Construct, id: string) {
    super(scope, id);
    new GoogleProvider(this, 'google', {});
    new TimeProvider(this, 'time', {});
    const vars = defineVariables(this);
    const apis = enableApis(this, vars);
    const registry = defineRegistry(this, vars, apis);
    const identities = defineIdentities(this, vars, apis, registry);
    defineFirestore(this, vars, apis);
    const network = defineNetwork(this, vars, apis);
    const hub = defineHubService(this, vars, apis, identities, network);
    defineScheduler(this, vars, apis, identities, hub);
    defineIapAccess(this, vars, apis, network);
    const eventarcReady = defineEventarcReadiness(this, vars, apis, identities);
    defineReconcileFunction(this, vars, apis, identities, eventarcReady);
    defineOutputs(this, hub, identities, registry);
  }
}
