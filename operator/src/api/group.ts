// Identity of the NexusRuntime API and of the operator as a writer. Everything that names the
// group, the kind or our field manager imports it from here.

export const GROUP = 'nexus.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;
export const KIND = 'NexusRuntime';
export const LIST_KIND = 'NexusRuntimeList';
export const PLURAL = 'nexusruntimes';
export const SINGULAR = 'nexusruntime';
export const SHORT_NAMES = ['nxr'] as const;
export const CRD_NAME = `${PLURAL}.${GROUP}`;

/** Field manager for every server-side apply the operator issues. */
export const FIELD_MANAGER = 'nexus-operator';

/** Pod-template annotation carrying the hash of the ConfigMap data: a change rolls the pods. */
export const CONFIG_HASH_ANNOTATION = `${GROUP}/config-hash`;
/** Annotation on every applied object: the hash of the desired state last applied. */
export const APPLIED_HASH_ANNOTATION = `${GROUP}/applied-hash`;
/** Pod-template annotation carrying the hash of the store Secret's content: a change rolls the pods. */
export const STORE_SECRET_HASH_ANNOTATION = `${GROUP}/store-secret-hash`;
/** Pod-template annotation of kernels that import an embedded store's panels into a shared one. */
export const PANELS_IMPORT_ANNOTATION = `${GROUP}/panels-import`;
