// `resourceFieldRef` values as the kubelet computes them: the container's request or limit divided
// by `divisor` (default 1) and rounded up; CPU in thousandths first, like Quantity.MilliValue. A
// request the spec leaves out equals the limit (API defaulting), else it is 0. A CPU, memory or
// ephemeral-storage limit the spec leaves out is the pod-level limit if any, else the node's
// allocatable, which cannot be known from here.
import type { V1Container, V1ResourceFieldSelector, V1ResourceRequirements } from '@kubernetes/client-node';
import { ceilDivide, milliValue, parseQuantity, wholeValue, type Quantity } from './quantity';
import type { FieldValue } from './pod-fields';

const NODE_DEFAULTED = new Set(['cpu', 'memory', 'ephemeral-storage']);

export function resourceFieldValue(
  ref: V1ResourceFieldSelector,
  container: V1Container,
  containers: readonly V1Container[],
  podResources?: V1ResourceRequirements,
): FieldValue {
  const target = ref.containerName ? containers.find((c) => c.name === ref.containerName) : container;
  if (!target) return { unsupported: `resourceFieldRef names container "${ref.containerName}", which the pod does not have` };
  const m = /^(limits|requests)\.(.+)$/.exec(ref.resource);
  const resource = m?.[2] ?? '';
  if (!m || !(NODE_DEFAULTED.has(resource) || resource.startsWith('hugepages-'))) {
    return { unsupported: `resourceFieldRef ${ref.resource} is not offered to environment variables` };
  }
  const divisorText = ref.divisor === undefined || ref.divisor === '' ? '1' : String(ref.divisor);
  const divisor = parseQuantity(divisorText);
  if (!divisor || divisor.numerator <= 0n) return { unsupported: `resourceFieldRef divisor "${divisorText}" is not a positive quantity` };

  const limits = target.resources?.limits ?? {};
  const requests = target.resources?.requests ?? {};
  let text: string | undefined;
  if (m[1] === 'limits') {
    text = limits[resource] ?? (NODE_DEFAULTED.has(resource) ? podResources?.limits?.[resource] : '0');
    if (text === undefined) return { unknown: `container "${target.name}" sets no ${resource} limit, so the pod sees the node's allocatable ${resource}` };
  } else {
    text = requests[resource] ?? limits[resource] ?? '0';
  }
  const amount = parseQuantity(String(text));
  if (!amount) return { unsupported: `${ref.resource} "${text}" is not a quantity` };
  return { value: divide(resource, amount, divisor).toString() };
}

function divide(resource: string, amount: Quantity, divisor: Quantity): bigint {
  if (resource === 'cpu') return ceilDivide(milliValue(amount), milliValue(divisor));
  return ceilDivide(wholeValue(amount), wholeValue(divisor));
}
