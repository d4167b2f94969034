// Work-queue keys: a NexusRuntime is known by `namespace/name` everywhere between the informers
// and the reconciler.

export function runtimeKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

export function splitKey(key: string): { namespace: string; name: string } {
  const slash = key.indexOf('/');
  return { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}
