/**
 * `instances.insert` takes a network and a subnetwork as full or partial URLs
 * (`https://…/projects/P/global/networks/N`, `projects/P/global/networks/N`,
 * `global/networks/N`; a subnetwork the same under `regions/R/subnetworks/N`).
 * A bare name is refused ("The URL is malformed"), so the names an operator
 * configures (HUB_NETWORK, HUB_SUBNETWORK, the Terraform module's variables)
 * become partial URLs here; a subnetwork's region is the workspace zone's.
 */

/** `europe-west1-b` → `europe-west1`: a zone's name is its region's plus a suffix. */
export function regionOfZone(zone: string): string {
  return zone.replace(/-[^-]+$/, '');
}

const isUrl = (value: string) => value.includes('/');

export function networkUrl(network: string): string {
  return isUrl(network) ? network : `global/networks/${network}`;
}

export function subnetworkUrl(subnetwork: string, zone: string): string {
  return isUrl(subnetwork) ? subnetwork : `regions/${regionOfZone(zone)}/subnetworks/${subnetwork}`;
}
