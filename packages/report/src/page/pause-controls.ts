/**
 * Pause and resume from the live console, for the roles the service allows them (an operator as the service, a
 * tenant admin as the tenant): a rollout (`POST v1/rollouts/ID/pause|resume`) or a ring whatever the release
 * (`POST v1/rings/NAME/pause|resume`). The service's answer (the state and who holds it paused) is shown; a refusal
 * is shown by the caller as its problem's title and detail.
 */
import { h } from './dom.js';

export interface PauseControls {
  /** `ids`: the element ids (`pause`, `resume`, `pause-reason` for a rollout; `ring-pause`, … for a ring). */
  readonly prefix: '' | 'ring-';
  /** The party the caller pauses as (service, tenant). */
  readonly party: string;
  /** What is paused, in the buttons' words ('' for a rollout: "Pause as the service"; 'the ring ' for a ring). */
  readonly noun: string;
  /** The path of the thing paused, like `v1/rings/pilot`, and its name in the answer shown (`Ring pilot`). */
  readonly target: () => { readonly path: string; readonly name: string };
  readonly call: (path: string, init: RequestInit) => Promise<Response>;
  /** The service answered: its state and who holds it paused. */
  readonly done: (text: string, state: string) => void;
  readonly fail: (error: unknown) => void;
}

export function pauseControls(o: PauseControls): HTMLElement[] {
  const reason = h('input', { type: 'text', id: `${o.prefix}pause-reason`, size: 28, placeholder: 'why (required to pause)', 'aria-label': `reason for the pause${o.noun === '' ? '' : ` of ${o.noun.trim()}`}` });
  const pause = h('button', { type: 'button', id: `${o.prefix}pause` }, `Pause ${o.noun}as the ${o.party}`);
  const resume = h('button', { type: 'button', id: `${o.prefix}resume` }, `Resume ${o.noun}(lift the ${o.party}’s pause)`);
  const act = (action: 'pause' | 'resume') => async () => {
    const { path, name } = o.target();
    try {
      const body = action === 'pause' ? { reason: reason.value.trim() } : {};
      const answer = (await (await o.call(`${path}/${action}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })).json()) as { state: string; pausedBy: string[] };
      o.done(`${name}: ${answer.state}${answer.pausedBy.length > 0 ? ` (paused by ${answer.pausedBy.join(' and ')})` : ''}`, answer.state);
    } catch (e) {
      o.fail(e);
    }
  };
  pause.addEventListener('click', act('pause'));
  resume.addEventListener('click', act('resume'));
  return [reason, pause, resume];
}
