import type { InjectEvent } from '../core/session/injector';
import type { Output } from './output';

/** How the command line shows an injection's or removal's progress. */
export function showInjectEvent(out: Output): (e: InjectEvent) => void {
  return (e) => {
    if (e.kind === 'step') out.progress('step', e, e.message);
    else if (e.kind === 'warning') out.progress('warning', e, `warning: ${e.message}`);
    else {
      const p = e.progress;
      out.progress('rollout', e, `  rollout: ${p.updated}/${p.desired} updated, ${p.ready} ready${p.old ? `, ${p.old} old` : ''}${e.stall ? ` (${e.stall})` : ''}`);
    }
  };
}
