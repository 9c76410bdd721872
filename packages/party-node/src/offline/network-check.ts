/**
 * The offline party's one look at the network: it refuses to run while any interface other than
 * loopback has an address (os.networkInterfaces lists only interfaces that are up and addressed).
 * It cannot prove a machine is air-gapped (a radio may come up later); it catches the ordinary
 * mistake of running the vault's copy on a connected machine.
 */
import { networkInterfaces } from 'node:os';
import { PartyError } from '../errors.js';

type Interfaces = ReturnType<typeof networkInterfaces>;

/** Names of the interfaces with a non-internal address, sorted. */
export function onlineInterfaces(ifaces: Interfaces = networkInterfaces()): string[] {
  return Object.entries(ifaces)
    .filter(([, addrs]) => (addrs ?? []).some((a) => !a.internal))
    .map(([name]) => name)
    .sort();
}

/** Throws `machine_online` when an interface is up, unless the operator said they know. */
export function assertOffline(acknowledgedOnline: boolean, ifaces: Interfaces = networkInterfaces()): void {
  const up = onlineInterfaces(ifaces);
  if (up.length === 0 || acknowledgedOnline) return;
  throw new PartyError(
    'machine_online',
    `network interface(s) up: ${up.join(', ')}; an offline party runs on a machine with no network (take them down, or pass --i-know-this-machine-is-online for a lab)`,
  );
}
