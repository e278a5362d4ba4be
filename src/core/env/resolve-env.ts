// A container's environment as the kubelet builds it (makeEnvironmentVariables): envFrom sources in
// order, each key with its prefix (keys that are not valid names skipped and reported), then `env` in
// order, a later definition replacing an earlier one. A literal value has its `$(NAME)` references
// expanded against what is defined so far. A missing optional source or key is skipped; a missing
// required one would keep the pod from starting, which is reported. Values that cannot be read here
// (Secrets not chosen or forbidden, fields of a pod that is not running, node allocatable) are left
// out with a note, and so is every value that refers to one of them. Service link variables
// (ORDERS_SERVICE_HOST ...) are not reproduced: they hold cluster IPs.
import type { V1Container, V1EnvFromSource, V1EnvVar, V1Pod } from '@kubernetes/client-node';
import { isEnvVarName, type NameRule } from './env-names';
import { expandReferences } from './expansion';
import { podFieldValue, type FieldValue } from './pod-fields';
import { resourceFieldValue } from './resource-fields';
import type { EnvNote, EnvVariable, ResolvedEnvironment, SourceData } from './types';

export interface EnvInputs {
  readonly container: V1Container;
  /** The pod fieldRef reads: a running pod, or the template's metadata and spec with the namespace set. */
  readonly pod: V1Pod;
  /** Whether `pod` is a running pod (its name, uid, node and IPs are then real). */
  readonly running: boolean;
  /** The referenced ConfigMaps and Secrets by name; one not listed counts as not read. */
  readonly configMaps: Readonly<Record<string, SourceData>>;
  readonly secrets: Readonly<Record<string, SourceData>>;
  /** `relaxed` on clusters with RelaxedEnvironmentVariableValidation, where no envFrom key is skipped. */
  readonly nameRule?: NameRule;
}

type Kind = 'ConfigMap' | 'Secret';
const PLURAL: Record<Kind, string> = { ConfigMap: 'configmaps', Secret: 'secrets' };

export function resolveEnvironment(inputs: EnvInputs): ResolvedEnvironment {
  const namespace = inputs.pod.metadata?.namespace ?? '';
  const defined = new Map<string, EnvVariable>();
  const withheld = new Map<string, string>();
  const notes: EnvNote[] = [];
  /** envFrom sources whose keys are unknown: any undefined name may be one of them. */
  const unreadFrom: string[] = [];

  const define = (v: EnvVariable) => {
    defined.delete(v.name); // re-inserted: the list reads in the order of the last definition
    defined.set(v.name, v);
    withheld.delete(v.name);
  };
  const withhold = (name: string, kind: EnvNote['kind'], message: string) => {
    defined.delete(name);
    withheld.set(name, message);
    notes.push({ kind, variables: [name], message: `${name}: ${message}` });
  };
  const dataOf = (kind: Kind, name: string): SourceData =>
    (kind === 'ConfigMap' ? inputs.configMaps[name] : inputs.secrets[name]) ?? { state: 'not-read' };
  const unreadable = (kind: Kind, name: string, data: SourceData): string | undefined => {
    if (data.state === 'forbidden') return `left out: you may not get ${PLURAL[kind]} in namespace ${data.namespace}`;
    if (data.state === 'not-read') return `left out: ${kind} ${name} was not read (Secrets are included only when you choose to)`;
    return undefined;
  };

  for (const from of inputs.container.envFrom ?? []) {
    const ref = fromRef(from);
    if (!ref) continue;
    const { kind, name, optional } = ref;
    const prefix = from.prefix ?? '';
    const data = dataOf(kind, name);
    const why = unreadable(kind, name, data);
    if (why) {
      unreadFrom.push(`${kind} ${name}`);
      notes.push({
        kind: 'left-out',
        variables: [],
        message: `Every key of ${kind} ${name} (envFrom${prefix ? `, prefix ${prefix}` : ''}) ${why}; its keys may also replace values listed before it.`,
      });
      continue;
    }
    if (data.state === 'missing') {
      if (!optional) notes.push(wouldNotStart([], `${kind} ${namespace}/${name} does not exist and envFrom does not mark it optional.`));
      continue;
    }
    if (data.state !== 'read') continue;
    const invalid: string[] = [];
    for (const key of Object.keys(data.data).sort()) {
      const varName = prefix + key;
      if (!isEnvVarName(varName, inputs.nameRule)) {
        invalid.push(varName);
        continue;
      }
      const source = `${kind} ${name} key ${key} (envFrom${prefix ? `, prefix ${prefix}` : ''})`;
      define({ name: varName, value: data.data[key]!, source, secret: kind === 'Secret' });
    }
    if (invalid.length > 0) {
      notes.push({
        kind: 'invalid-names',
        variables: invalid,
        message: `Keys [${invalid.join(', ')}] from the EnvFrom ${kind === 'ConfigMap' ? 'configMap' : 'secret'} ${namespace}/${name} were skipped since they are considered invalid environment variable names.`,
      });
    }
  }

  for (const env of inputs.container.env ?? []) {
    const source = env.valueFrom;
    if (env.value || !source) {
      const expanded = expandReferences(env.value ?? '', (n) => defined.get(n)?.value);
      const leftOut = expanded.references.find((n) => withheld.has(n));
      if (leftOut !== undefined) {
        withhold(env.name, 'left-out', `left out: its value refers to $(${leftOut}), which was left out`);
        continue;
      }
      const maybeUnread = unreadFrom.length > 0 ? expanded.references.find((n) => !defined.has(n)) : undefined;
      if (maybeUnread !== undefined) {
        withhold(env.name, 'left-out', `left out: its value refers to $(${maybeUnread}), which may come from ${unreadFrom.join(', ')}, not read`);
        continue;
      }
      const secret = expanded.references.some((n) => defined.get(n)?.secret === true);
      define({ name: env.name, value: expanded.value, source: 'value in the container spec', secret });
      continue;
    }
    if (source.fieldRef) {
      fromField(env, podFieldValue(source.fieldRef, inputs.pod, inputs.running), `fieldRef ${source.fieldRef.fieldPath}`);
    } else if (source.resourceFieldRef) {
      const r = source.resourceFieldRef;
      const described = `resourceFieldRef ${r.resource}${r.divisor !== undefined ? ` / ${String(r.divisor)}` : ''}${r.containerName ? ` of container ${r.containerName}` : ''}`;
      fromField(env, resourceFieldValue(r, inputs.container, inputs.pod.spec?.containers ?? [], inputs.pod.spec?.resources), described);
    } else if (source.configMapKeyRef || source.secretKeyRef) {
      const kind: Kind = source.configMapKeyRef ? 'ConfigMap' : 'Secret';
      const ref = (source.configMapKeyRef ?? source.secretKeyRef)!;
      const data = dataOf(kind, ref.name ?? '');
      const why = unreadable(kind, ref.name ?? '', data);
      if (why) {
        withhold(env.name, 'left-out', why);
        continue;
      }
      const value = data.state === 'read' ? data.data[ref.key] : undefined;
      if (value === undefined) {
        if (ref.optional) continue; // Kubernetes skips it: an earlier definition, if any, stays
        const what = data.state === 'missing' ? `${kind} ${namespace}/${ref.name} does not exist` : `${kind} ${namespace}/${ref.name} has no key ${ref.key}`;
        defined.delete(env.name);
        withheld.set(env.name, what);
        notes.push(wouldNotStart([env.name], `${env.name}: ${what} and the reference is not optional.`));
        continue;
      }
      define({ name: env.name, value, source: `${kind} ${ref.name} key ${ref.key}`, secret: kind === 'Secret' });
    } else {
      withhold(env.name, 'unknown', 'its value comes from a source that cannot be read from here');
    }
  }

  function fromField(env: V1EnvVar, field: FieldValue, source: string): void {
    if ('value' in field) define({ name: env.name, value: field.value, source, secret: false });
    else if ('unknown' in field) withhold(env.name, 'unknown', `unknown: ${field.unknown}`);
    else withhold(env.name, 'unsupported', field.unsupported);
  }

  return { variables: [...defined.values()], notes };
}

function fromRef(from: V1EnvFromSource): { kind: Kind; name: string; optional: boolean } | undefined {
  if (from.configMapRef) return { kind: 'ConfigMap', name: from.configMapRef.name ?? '', optional: from.configMapRef.optional === true };
  if (from.secretRef) return { kind: 'Secret', name: from.secretRef.name ?? '', optional: from.secretRef.optional === true };
  return undefined;
}

function wouldNotStart(variables: string[], message: string): EnvNote {
  return { kind: 'would-not-start', variables, message: `${message} The pod would not start (CreateContainerConfigError).` };
}
