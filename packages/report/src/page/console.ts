/**
 * The live console (`hotpatch serve` at `/`): the report's views over the service's log as it grows. A person signs
 * in with a token (kept in sessionStorage, sent as a Bearer header, never in a URL); the page asks the service for
 * the ReportData of the caller's tenant (`GET v1/console/data`, built by the report's own code from the service's
 * log), draws it with the report's `render`, then follows the tenant's live tail (`GET v1/console/stream`, SSE read
 * through fetch, since EventSource cannot send a header) and asks for the data again after each burst of events.
 * A device named in a view links to its own view (#device=ID: the report's `--device`). Pause and resume of the rollout
 * shown and of a ring are shown to the roles the service allows them (operator, tenant admin) and call its routes
 * (pause-controls.ts).
 */
import type { ReportData } from '../model.js';
import { h, linkDevices } from './dom.js';
import { pauseControls } from './pause-controls.js';
import { isoOf } from './time.js';

const TOKEN_KEY = 'hotpatch.console.token';
const TENANT_KEY = 'hotpatch.console.tenant';
/** The live events listed (the newest first). */
const FEED = 20;
/** Between a refresh and the next while events keep coming, and before a dropped tail is followed again. */
const REFRESH_GAP_MS = 300;
const RECONNECT_MS = 2000;

interface Caller {
  readonly role: string;
  readonly tenant: string;
  readonly party: string;
  readonly serviceWide: boolean;
}

interface ConsoleAnswer {
  readonly position: number;
  readonly caller: Caller;
  readonly rollouts: readonly string[];
  readonly subject: { readonly kind: 'rollout' | 'device'; readonly id: string } | { readonly kind: 'fleet' };
  readonly data: ReportData | null;
}

/** An answer of the service that is not a success: its problem's title and detail (RFC 9457). */
class ProblemAnswer extends Error {
  /** The answer to the console's data request (not to an action of the page's). */
  consoleData = false;
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string,
  ) {
    super(detail === '' ? title : `${title}: ${detail}`);
  }
}

export function consoleStart(root: HTMLElement, render: (root: HTMLElement, data: ReportData) => void): void {
  const base = root.dataset.base ?? '/';
  const tokenInput = h('input', { type: 'password', id: 'token', autocomplete: 'off', spellcheck: 'false', required: true, size: 40, 'aria-label': 'token' });
  const tenantInput = h('input', { type: 'text', id: 'tenant', autocomplete: 'off', spellcheck: 'false', size: 16, placeholder: 'default', 'aria-label': 'tenant (operators and service-wide auditors)' });
  const signIn = h('form', { id: 'sign-in', method: 'post' }, h('label', { for: 'token' }, 'Token '), tokenInput, h('label', { for: 'tenant' }, ' Tenant '), tenantInput, h('button', { type: 'submit' }, 'Sign in'));
  const signOut = h('button', { type: 'button', id: 'sign-out' }, 'Sign out');
  const who = h('p', { id: 'who', class: 'note' });
  const subject = h('select', { id: 'subject', 'aria-label': 'what to show' });
  const rolloutControls = h('div', { id: 'controls', class: 'controls' });
  const ringControls = h('div', { id: 'ring-controls', class: 'controls' });
  const actionState = h('p', { id: 'action-state', role: 'status' });
  const ringState = h('p', { id: 'ring-state', role: 'status' });
  const error = h('p', { id: 'console-error', class: 'error', role: 'alert' });
  const live = h('p', { id: 'live', class: 'note', role: 'status' });
  const feed = h('ol', { id: 'feed', 'aria-label': 'the latest events of the log', reversed: true });
  const view = h('div', { id: 'report', 'aria-live': 'polite' });
  const signedIn = h('div', { id: 'signed-in', hidden: true }, h('div', { class: 'bar' }, who, signOut), h('div', { class: 'bar' }, h('label', { for: 'subject' }, 'Show '), subject, rolloutControls), actionState, ringControls, ringState, live);
  root.replaceChildren(h('header', {}, h('h1', {}, 'hotpatch console'), signIn, signedIn, error), view, h('section', { id: 'events', 'aria-labelledby': 'events-h' }, h('h2', { id: 'events-h' }, 'Live events'), feed));

  let token = sessionStorage.getItem(TOKEN_KEY);
  let tenant = sessionStorage.getItem(TENANT_KEY) ?? '';
  let position = 0;
  let tail: AbortController | undefined;
  let loading: Promise<void> | undefined;
  let again = false;
  let shown: ConsoleAnswer | undefined;

  const headers = (): Record<string, string> => ({ authorization: `Bearer ${token ?? ''}`, ...(tenant !== '' ? { 'hotpatch-tenant': tenant } : {}) });
  const call = async (path: string, init: RequestInit = {}): Promise<Response> => {
    const response = await fetch(base + path, { ...init, cache: 'no-store', headers: { ...headers(), ...(init.headers as Record<string, string> | undefined) } });
    if (response.ok) return response;
    const problem = (await response.json().catch(() => ({}))) as { title?: string; detail?: string };
    throw new ProblemAnswer(response.status, problem.title ?? `HTTP ${response.status}`, problem.detail ?? '');
  };
  const fail = (e: unknown) => {
    error.textContent = e instanceof Error ? e.message : String(e);
    // A token refused (401), or one whose role may not read the console (403: an agent's): back to the sign-in, the
    // reason shown. A refused action (a pause) is 400/403/409 too, but comes through `act`, not here.
    if (e instanceof ProblemAnswer && (e.status === 401 || (e.status === 403 && e.consoleData))) leave(false);
  };

  /** The subject asked for: the page's hash (#rollout=ID, #device=ID or #fleet), else the service's choice. */
  const asked = (): string => {
    const m = /^#(rollout|device)=(.+)$/.exec(location.hash);
    return m ? `?${m[1]}=${encodeURIComponent(decoded(m[2]!))}` : location.hash === '#fleet' ? '?fleet=true' : '';
  };
  /** A hash typed by hand need not be encoded: one that does not decode (a bare %) is taken as it is. */
  const decoded = (text: string): string => {
    try {
      return decodeURIComponent(text);
    } catch {
      return text;
    }
  };

  async function loadOnce(): Promise<void> {
    const signedInAs = token;
    const answer = (await (
      await call(`v1/console/data${asked()}`).catch((e: unknown) => {
        if (e instanceof ProblemAnswer) e.consoleData = true;
        throw e;
      })
    ).json()) as ConsoleAnswer;
    // Signed out (or in again) while it was asked: the answer is not for this page any more.
    if (token === null || token !== signedInAs) return;
    error.textContent = '';
    // The same subject drawn again keeps the reader's place; another one (a device opened) takes the focus to it.
    const first = shown === undefined;
    const same = shown !== undefined && JSON.stringify(shown.subject) === JSON.stringify(answer.subject);
    const before = same ? (shown?.data ?? null) : null;
    shown = answer;
    position = Math.max(position, answer.position);
    who.textContent = `Signed in as ${answer.caller.role}${answer.caller.serviceWide ? ' (service-wide)' : ''}, tenant ${answer.caller.tenant}; the log read to position ${answer.position}.`;
    // The choice's value becomes the page's hash, which asked() decodes: an id is encoded in it.
    const hashOf = (kind: string, id: string) => `${kind}=${encodeURIComponent(id)}`;
    const chosen = answer.subject.kind === 'fleet' ? 'fleet' : hashOf(answer.subject.kind, answer.subject.id);
    subject.replaceChildren(
      ...answer.rollouts.map((id) => h('option', { value: hashOf('rollout', id), selected: chosen === hashOf('rollout', id) }, `Rollout ${id}`)),
      h('option', { value: 'fleet', selected: chosen === 'fleet' }, 'The fleet'),
      ...(answer.subject.kind === 'device' ? [h('option', { value: chosen, selected: true }, `Device ${answer.subject.id}`)] : []),
    );
    drawControls(answer);
    if (answer.data === null) view.replaceChildren(h('p', {}, 'The log holds no events of this tenant yet.'));
    else redraw(answer.data, before, !same && !first);
  }

  /**
   * Draws the data again; a cursor a person moved stays at its time, one at the end follows the end. `focus`: another
   * subject, its heading takes the focus (and the view scrolls to it), as a link followed would.
   */
  function redraw(data: ReportData, before: ReportData | null, focus: boolean): void {
    const time = view.querySelector<HTMLInputElement>('#cursor-time');
    const moved = before !== null && time !== null && time.value !== isoOf(before, before.window[1]) ? time.value : undefined;
    const scroll = window.scrollY;
    render(view, data);
    if (moved !== undefined) {
      const input = view.querySelector<HTMLInputElement>('#cursor-time');
      if (input) {
        input.value = moved;
        input.form?.requestSubmit();
      }
    }
    if (focus) view.querySelector<HTMLElement>('section h2')?.focus();
    else window.scrollTo(0, scroll);
  }

  /** One load at a time; events during one ask for another after it (a burst costs two loads, not one per event). */
  function load(): Promise<void> {
    if (loading) {
      again = true;
      return loading;
    }
    loading = loadOnce()
      .catch(fail)
      .finally(() => {
        loading = undefined;
        if (again && token !== null) {
          again = false;
          setTimeout(() => void load(), REFRESH_GAP_MS);
        }
      });
    return loading;
  }

  function drawControls(answer: ConsoleAnswer): void {
    const may = answer.caller.role === 'operator' || answer.caller.role === 'tenant-admin';
    const common = { party: answer.caller.party, call, fail };
    const done = (state: HTMLElement) => (text: string, value: string) => {
      error.textContent = '';
      state.textContent = text;
      state.dataset.state = value;
      void load();
    };
    if (!may || answer.subject.kind !== 'rollout') rolloutControls.replaceChildren();
    else if (rolloutControls.dataset.rollout !== answer.subject.id || rolloutControls.childElementCount === 0) {
      const id = answer.subject.id;
      rolloutControls.dataset.rollout = id;
      const target = () => {
        const rollout = shown?.subject.kind === 'rollout' ? shown.subject.id : id;
        return { path: `v1/rollouts/${encodeURIComponent(rollout)}`, name: `Rollout ${rollout}` };
      };
      rolloutControls.replaceChildren(...pauseControls({ ...common, prefix: '', noun: '', target, done: done(actionState) }));
    }
    // A ring whatever the release: the rings the view shows (a rollout's lanes, the fleet's, the device's).
    const data = answer.data;
    const rings = data === null ? [] : [...new Set([...(data.rollout?.lanes ?? []), ...data.fleet].map((l) => l.ring).concat(data.device?.ring ?? []))];
    if (!may || rings.length === 0) ringControls.replaceChildren();
    else if (ringControls.dataset.rings !== rings.join('\n') || ringControls.childElementCount === 0) {
      ringControls.dataset.rings = rings.join('\n');
      const ring = h('select', { id: 'ring', 'aria-label': 'the ring to pause or resume' }, ...rings.map((r) => h('option', { value: r }, r)));
      const target = () => ({ path: `v1/rings/${encodeURIComponent(ring.value)}`, name: `Ring ${ring.value}` });
      ringControls.replaceChildren(h('label', { for: 'ring' }, 'Ring '), ring, ...pauseControls({ ...common, prefix: 'ring-', noun: 'the ring ', target, done: done(ringState) }));
    }
  }

  /** Follows the tenant's live tail from the position loaded; comes back after a drop, from the last event seen. */
  async function follow(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        const response = await call(`v1/console/stream?after=${position}`, { signal, headers: { accept: 'text/event-stream' } });
        live.textContent = `Live: following the log after position ${position}.`;
        const reader = response.body!.getReader();
        const decoder = new TextDecoder();
        let buffer = '';
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          buffer += decoder.decode(value, { stream: true });
          let end: number;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const data = /^data: (.*)$/m.exec(block);
            if (data) arrived(JSON.parse(data[1]!) as { position: number; stream: string; type: string; time: string });
          }
        }
      } catch (e) {
        if (signal.aborted) return;
        if (e instanceof ProblemAnswer && e.status < 500) return fail(e);
      }
      if (signal.aborted) return;
      live.textContent = `The live tail ended: following again from position ${position}…`;
      await new Promise((resolve) => setTimeout(resolve, RECONNECT_MS));
    }
  }

  function arrived(e: { position: number; stream: string; type: string; time: string }): void {
    position = Math.max(position, e.position);
    feed.prepend(h('li', { 'data-position': e.position, 'data-type': e.type }, `${e.time.slice(0, 19).replace('T', ' ')}  ${e.stream}  ${e.type}`));
    while (feed.childElementCount > FEED) feed.lastElementChild!.remove();
    live.textContent = `Live: at position ${position}.`;
    void load();
  }

  function enter(): void {
    signIn.hidden = true;
    signedIn.hidden = false;
    position = 0;
    shown = undefined;
    tail?.abort();
    const signal = (tail = new AbortController()).signal;
    // The tail follows from the position the first data was read to, once there is one.
    void load().then(() => (shown !== undefined && !signal.aborted ? follow(signal) : undefined));
  }

  function leave(forget: boolean): void {
    tail?.abort();
    if (forget) {
      error.textContent = '';
      sessionStorage.removeItem(TOKEN_KEY);
      sessionStorage.removeItem(TENANT_KEY);
    } else sessionStorage.removeItem(TOKEN_KEY);
    token = null;
    shown = undefined;
    signIn.hidden = false;
    signedIn.hidden = true;
    rolloutControls.replaceChildren();
    ringControls.replaceChildren();
    view.replaceChildren();
    feed.replaceChildren();
  }

  signIn.addEventListener('submit', (e) => {
    e.preventDefault();
    token = tokenInput.value.trim();
    tenant = tenantInput.value.trim();
    tokenInput.value = '';
    sessionStorage.setItem(TOKEN_KEY, token);
    sessionStorage.setItem(TENANT_KEY, tenant);
    enter();
  });
  signOut.addEventListener('click', () => leave(true));
  subject.addEventListener('change', () => {
    location.hash = subject.value;
  });
  window.addEventListener('hashchange', () => {
    if (token !== null) void load();
  });
  // A device named anywhere in a view opens its own view (#device=ID): its band, its history, its path.
  linkDevices((id) => `#device=${encodeURIComponent(id)}`);
  tenantInput.value = tenant;
  if (token !== null) enter();
}
