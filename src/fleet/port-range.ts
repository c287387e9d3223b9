/**
 * Where to look for a port that a kernel binds later: outside the OS's ephemeral range.
 *
 * The OS hands a port of ip_local_port_range out to any bind(0) and as the source port of any
 * connect(); between our probe and the kernel's bind it may do so, and the kernel then fails to
 * bind. A port outside that range is only ever taken by an explicit bind, so it stays free unless
 * another program picks that very port. Pure: the range text, the exclusions and the random
 * source come in as arguments, so every rule is table-testable.
 */

/** Inclusive bounds. */
export type PortRange = readonly [low: number, high: number];

/** Linux's documented default ip_local_port_range, used when /proc cannot be read. */
export const LINUX_DEFAULT_EPHEMERAL: PortRange = [32768, 60999];

/** Below 20000 are most services' conventional ports (a kube-apiserver's 6443, a kubelet's 10250). */
export const CANDIDATE_SPAN: PortRange = [20000, 65535];

/**
 * Well-known service ports inside CANDIDATE_SPAN: a kernel there could collide with a service
 * started after it (or, for NodePorts, one reached through kube-proxy on this node).
 */
export const RESERVED_PORTS: readonly PortRange[] = [
  [27017, 27019], // MongoDB
  [28015, 28015], // RethinkDB
  [30000, 32767], // Kubernetes NodePort default range
];

/** Pure: the text of /proc/sys/net/ipv4/ip_local_port_range ("32768\t60999\n"), or undefined when it is not a range. */
export function parsePortRange(text: string): PortRange | undefined {
  const fields = text.trim().split(/\s+/);
  if (fields.length !== 2 || !fields.every((f) => /^\d+$/.test(f))) return undefined;
  const [low, high] = fields.map(Number) as [number, number];
  return low >= 1 && low <= high && high <= 65535 ? [low, high] : undefined;
}

/** Pure: `spans` with every port of `removed` taken out; sorted, empty spans dropped. */
export function subtractRanges(spans: readonly PortRange[], removed: readonly PortRange[]): PortRange[] {
  let out: PortRange[] = [...spans].sort((a, b) => a[0] - b[0]);
  for (const [rLow, rHigh] of removed) {
    out = out.flatMap(([low, high]): PortRange[] => {
      if (rHigh < low || rLow > high) return [[low, high]];
      const parts: PortRange[] = [];
      if (rLow > low) parts.push([low, rLow - 1]);
      if (rHigh < high) parts.push([rHigh + 1, high]);
      return parts;
    });
  }
  return out;
}

/** Pure: the ports of CANDIDATE_SPAN that the OS never hands out by itself and no known service uses. */
export function candidateSpans(ephemeral: PortRange, reserved: readonly PortRange[] = RESERVED_PORTS): PortRange[] {
  return subtractRanges([CANDIDATE_SPAN], [ephemeral, ...reserved]);
}

/** Pure: how many ports the spans hold. */
export function spanSize(spans: readonly PortRange[]): number {
  return spans.reduce((n, [low, high]) => n + high - low + 1, 0);
}

/** Pure: the port at `fraction` (0 <= fraction < 1) of the spans laid end to end. */
export function portAt(spans: readonly PortRange[], fraction: number): number {
  const total = spanSize(spans);
  if (total === 0) {
    throw new RangeError(`no candidate port: ip_local_port_range and the reserved ports cover all of ${CANDIDATE_SPAN.join('-')}`);
  }
  if (!(fraction >= 0 && fraction < 1)) throw new RangeError(`fraction ${fraction} is not in [0, 1)`);
  let index = Math.floor(fraction * total);
  for (const [low, high] of spans) {
    if (index <= high - low) return low + index;
    index -= high - low + 1;
  }
  throw new RangeError(`fraction ${fraction} is not in [0, 1)`);
}

/**
 * Pure: up to `count` distinct candidates drawn with `random` (Math.random in use), none in
 * `skip`. Random rather than sequential so that two managers (two users) probing at once
 * rarely try the same port. Stops after `maxDraws` draws, so a crowded span cannot loop forever.
 */
export function drawCandidates(
  spans: readonly PortRange[],
  count: number,
  random: () => number,
  skip: ReadonlySet<number> = new Set(),
  maxDraws = count * 20,
): number[] {
  const picked = new Set<number>();
  for (let draws = 0; picked.size < count && draws < maxDraws; draws++) {
    const port = portAt(spans, random());
    if (!skip.has(port)) picked.add(port);
  }
  return [...picked];
}
