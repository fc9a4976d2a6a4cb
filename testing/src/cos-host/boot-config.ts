/** What `boot-main` is handed (as JSON) by the test process. */
export interface BootConfig {
  userDataFile: string;
  /** Host directory for this boot's overlays, scripts, stand-ins and journal. */
  stateDir: string;
  /** The loop device standing in for the home disk. */
  homeDisk: string;
  /** The agent's entry point (vm-agent's dist/main.js): what the image's CMD runs. */
  agentMain: string;
}

/** The journal directory (one `<unit>.log` per unit) under a boot's state directory. */
export const journalDir = (stateDir: string) => `${stateDir}/journal`;
