// The page of `sfbackup ui`. Every value from the vault is untrusted (records hold whatever users
// typed): it reaches the page as text nodes only, never as HTML.

const TOKEN_KEY = 'sfbackup-ui-token';
const token =
  new URLSearchParams(location.hash.slice(1)).get('token') ?? sessionStorage.getItem(TOKEN_KEY) ?? '';
sessionStorage.setItem(TOKEN_KEY, token);
// The token leaves the address bar (and so screenshots and shoulder-surfers); the tab keeps it.
if (location.hash) history.replaceState(null, '', location.pathname);

const AUDIT = new Set(['SystemModstamp', 'LastModifiedDate', 'LastModifiedById']);
const WRITING_MODES = ['restore-deleted', 'revert-changes', 'full'];

const state = {
  session: { org: '', orgId: null, connected: false },
  snapshots: [],
  latest: null,
  objects: new Map(),
  history: null,
  diff: null,
  input: null,
  dryRun: null,
};

// ---- small helpers -------------------------------------------------------------------------------

/** An element with attributes and children; strings become text nodes, so nothing is parsed as HTML. */
function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else if (value === true) node.setAttribute(name, '');
    else node.setAttribute(name, String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function $(id) {
  return document.getElementById(id);
}

function show(container, ...children) {
  container.replaceChildren(...children.flat().filter(Boolean));
}

function table(caption, headers, rows, options = {}) {
  return el(
    'table',
    { class: options.class },
    el('caption', {}, caption),
    el(
      'thead',
      {},
      el(
        'tr',
        {},
        headers.map((h) => el('th', { scope: 'col' }, h)),
      ),
    ),
    el('tbody', {}, rows),
  );
}

function number(n) {
  return n === null || n === undefined ? '–' : n.toLocaleString('en-US');
}

function when(iso) {
  return iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '–';
}

function status(message, kind = 'info') {
  const line = $('status');
  line.textContent = message;
  line.dataset.kind = kind;
}

async function api(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: {
      'x-sfbackup-token': token,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(data.error ?? `The server answered ${response.status}.`);
  return data;
}

/** Runs an action with a busy message, and puts its error in the status line. */
async function busy(message, action) {
  status(message, 'busy');
  try {
    const result = await action();
    if ($('status').dataset.kind === 'busy') status('');
    return result;
  } catch (error) {
    status(error.message, 'error');
    return undefined;
  }
}

function snapshotLabel(s) {
  return `${when(s.finishedAt)} · ${s.mode}${s.latest ? ' · latest' : ''}`;
}

function fillSnapshots(select, { complete = true, selected } = {}) {
  const chosen = selected ?? select.value;
  const options = state.snapshots
    .filter((s) => !complete || s.status === 'complete')
    .map((s) => el('option', { value: s.snapshotId, selected: s.snapshotId === chosen }, snapshotLabel(s)));
  select.replaceChildren(...options);
}

function fillOptions(select, values, { selected, first } = {}) {
  const chosen = selected ?? select.value;
  select.replaceChildren(
    ...(first ? [el('option', { value: '' }, first)] : []),
    ...values.map((v) => el('option', { value: v, selected: v === chosen }, v)),
  );
}

// ---- screens ---------------------------------------------------------------------------------------

function showScreen(name, { focus = true } = {}) {
  for (const button of document.querySelectorAll('nav.screens button')) {
    if (button.dataset.screen === name) button.setAttribute('aria-current', 'page');
    else button.removeAttribute('aria-current');
  }
  for (const section of document.querySelectorAll('main > section')) section.hidden = section.id !== name;
  if (focus) $(`${name}-title`).focus();
}

for (const button of document.querySelectorAll('nav.screens button')) {
  button.addEventListener('click', () => {
    showScreen(button.dataset.screen);
    // A screen opened from the menu shows the latest snapshot's objects at once.
    if (button.dataset.screen === 'objects' && !$('objects-body').hasChildNodes() && state.latest) {
      void renderObjects($('objects-snapshot').value || state.latest);
    }
  });
}

// ---- timeline ---------------------------------------------------------------------------------------

async function loadTimeline() {
  const [session, list] = await Promise.all([api('GET', '/api/session'), api('GET', '/api/timeline')]);
  state.session = session;
  state.snapshots = list.snapshots;
  state.latest = list.snapshots.find((s) => s.latest)?.snapshotId ?? null;
  $('session').textContent =
    `Org ${session.org}${session.orgId && session.orgId !== session.org ? ` (${session.orgId})` : ''} · ${list.snapshots.length} snapshots · ` +
    (session.connected ? 'connected to the org: dry runs run here' : 'read only: no org connection');
  const complete = list.snapshots.filter((s) => s.status === 'complete');
  const rows = list.snapshots.map((s, i) => {
    const previous = list.snapshots
      .slice(i + 1)
      .find((p) => p.status === 'complete' && p.mode !== 'metadata');
    return el(
      'tr',
      { 'data-snapshot': s.snapshotId, class: s.latest ? 'latest' : undefined },
      el('td', {}, el('code', {}, s.snapshotId)),
      el('td', {}, when(s.finishedAt)),
      el('td', {}, s.mode),
      el(
        'td',
        {},
        el('span', { class: `badge ${s.status}` }, s.status),
        s.problems.length ? ` ${s.problems.join('; ')}` : '',
      ),
      el('td', { class: 'num' }, number(s.objects)),
      el('td', { class: 'num' }, number(s.rows)),
      el('td', {}, s.latest ? el('strong', { class: 'badge latest' }, 'latest') : ''),
      el(
        'td',
        { class: 'actions' },
        s.status === 'complete'
          ? el('button', { type: 'button', onclick: () => openObjects(s.snapshotId) }, 'Browse objects')
          : '',
        s.status === 'complete' && s.mode !== 'metadata' && previous
          ? el(
              'button',
              { type: 'button', onclick: () => openDiff(previous.snapshotId, s.snapshotId) },
              'Changes since previous',
            )
          : '',
      ),
    );
  });
  show(
    $('timeline-body'),
    list.snapshots.length === 0
      ? el('p', {}, 'The vault holds no snapshot of this org yet: run sfbackup backup.')
      : table(
          `${list.snapshots.length} snapshots, ${complete.length} complete, newest first`,
          ['Snapshot', 'Finished (UTC)', 'Mode', 'Status', 'Objects', 'Rows exported', 'Latest', 'Actions'],
          rows,
          { class: 'timeline' },
        ),
  );
  for (const id of ['objects-snapshot', 'search-snapshot']) fillSnapshots($(id), { selected: state.latest });
  fillSnapshots($('diff-a'), { selected: complete[1]?.snapshotId });
  fillSnapshots($('diff-b'), { selected: state.latest });
  status(`Loaded ${list.snapshots.length} snapshots.`);
  return true;
}

// ---- objects ---------------------------------------------------------------------------------------

async function objectsAt(snapshot) {
  if (!state.objects.has(snapshot)) {
    state.objects.set(snapshot, await api('GET', `/api/objects?snapshot=${encodeURIComponent(snapshot)}`));
  }
  return state.objects.get(snapshot);
}

async function openObjects(snapshot) {
  $('objects-snapshot').value = snapshot;
  showScreen('objects');
  await renderObjects(snapshot);
}

async function renderObjects(snapshot) {
  const result = await busy('Counting rows…', () => objectsAt(snapshot));
  if (!result) return;
  const rows = result.objects.map((o) =>
    el(
      'tr',
      { 'data-object': o.name },
      el('th', { scope: 'row' }, o.name),
      el('td', { class: 'num' }, number(o.live)),
      el('td', { class: 'num' }, number(o.deleted)),
      el('td', { class: 'num' }, number(o.fields)),
      el(
        'td',
        { class: 'actions' },
        el(
          'button',
          { type: 'button', onclick: () => openSearch(result.snapshotId, o.name) },
          `Search ${o.name}`,
        ),
      ),
    ),
  );
  show(
    $('objects-body'),
    table(
      `${result.objects.length} objects at snapshot ${result.snapshotId}`,
      ['Object', 'Live rows', 'In recycle bin', 'Fields', 'Actions'],
      rows,
    ),
  );
  status(`${result.objects.length} objects at ${result.snapshotId}.`);
}

$('objects-form').addEventListener('submit', (event) => {
  event.preventDefault();
  void renderObjects($('objects-snapshot').value);
});

// ---- search ----------------------------------------------------------------------------------------

/** Fills an object select with the objects of a snapshot (busy reading its counts). */
async function fillObjects(select, snapshot, selected) {
  if (!snapshot) return;
  const result = await busy('Reading objects…', () => objectsAt(snapshot));
  if (!result) return;
  fillOptions(
    select,
    result.objects.map((o) => o.name),
    { selected },
  );
}

const fillSearchObjects = (selected) => fillObjects($('search-object'), $('search-snapshot').value, selected);
// A history spans every snapshot: the latest one's objects are offered.
const fillHistoryObjects = (selected) => fillObjects($('history-object'), state.latest, selected);

async function openSearch(snapshot, object) {
  $('search-snapshot').value = snapshot;
  showScreen('search', { focus: false });
  await fillSearchObjects(object);
  $('search-text').focus();
}

$('search-snapshot').addEventListener('change', () => void fillSearchObjects());

$('search-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const body = {
    snapshot: $('search-snapshot').value,
    object: $('search-object').value,
    field: $('search-field').value,
    text: $('search-text').value,
  };
  // aria-busy tells assistive technology (and the browser tests) that the results are being replaced.
  $('search-body').setAttribute('aria-busy', 'true');
  const result = await busy('Searching…', () => api('POST', '/api/search', body));
  if (result) {
    fillOptions($('search-field'), result.columns, { selected: body.field, first: 'any field' });
    renderMatches(result, body.text);
  }
  $('search-body').removeAttribute('aria-busy');
});

function matchedFields(row, text) {
  const needle = text.trim().toLowerCase();
  if (!needle) return [];
  return Object.entries(row.values)
    .filter(([, v]) => v.toLowerCase().includes(needle))
    .map(([f]) => f);
}

function renderMatches(result, text) {
  const detail = el('div', { class: 'detail', id: 'search-detail' });
  const nameField = ['Name', 'Subject', 'Title', 'LastName'].find((f) => result.columns.includes(f));
  const rows = result.rows.map((row) =>
    el(
      'tr',
      { 'data-id': row.id },
      el('td', {}, el('code', {}, row.id)),
      el('td', {}, row.deleted ? el('span', { class: 'badge failed' }, 'recycle bin') : 'live'),
      el('td', { class: 'value' }, nameField ? (row.values[nameField] ?? '') : ''),
      el('td', {}, matchedFields(row, text).join(', ') || (text.trim() ? 'Id' : '')),
      el(
        'td',
        { class: 'actions' },
        el('button', { type: 'button', onclick: () => renderRecord(detail, result, row) }, 'Fields'),
        el('button', { type: 'button', onclick: () => openHistory(result.object, row.id) }, 'History'),
      ),
    ),
  );
  show(
    $('search-body'),
    el(
      'p',
      { class: 'count' },
      result.more
        ? `More than ${number(result.total)} records match in ${result.object} at ${result.snapshotId} (the first ${result.rows.length} shown; narrow the search)`
        : `${number(result.total)} ${result.total === 1 ? 'record matches' : 'records match'} in ${result.object} at ${result.snapshotId}`,
    ),
    result.rows.length
      ? table(
          `Matches in ${result.object}`,
          ['Id', 'State', nameField ?? 'Name', 'Matched in', 'Actions'],
          rows,
          {
            class: 'matches',
          },
        )
      : '',
    detail,
  );
  status(`${result.more ? 'More than ' : ''}${result.total} ${result.total === 1 ? 'match' : 'matches'}.`);
}

function renderRecord(container, result, row) {
  show(
    container,
    el('h3', { tabindex: '-1', id: 'record-title' }, `${result.object} ${row.id} at ${result.snapshotId}`),
    table(
      `Fields of ${row.id}`,
      ['Field', 'Value'],
      result.columns.map((c) =>
        el('tr', {}, el('th', { scope: 'row' }, c), el('td', { class: 'value' }, row.values[c] ?? '')),
      ),
      { class: 'fields' },
    ),
  );
  $('record-title').focus();
}

// ---- history ---------------------------------------------------------------------------------------

async function openHistory(object, id) {
  showScreen('history', { focus: false });
  await fillHistoryObjects(object);
  $('history-id').value = id;
  await renderHistory(object, id);
}

$('history-form').addEventListener('submit', (event) => {
  event.preventDefault();
  void renderHistory($('history-object').value, $('history-id').value.trim());
});

function changeList(changes) {
  if (!changes.length) return '';
  return el(
    'ul',
    { class: 'changes' },
    changes.map((c) =>
      el(
        'li',
        {},
        el('strong', {}, c.field),
        ': ',
        el('span', { class: 'before' }, c.before || '(empty)'),
        ' → ',
        el('span', { class: 'after' }, c.after || '(empty)'),
      ),
    ),
  );
}

async function renderHistory(object, id) {
  const history = await busy(`Reading every snapshot of ${object}…`, () =>
    api('POST', '/api/history', { object, id }),
  );
  if (!history) return;
  state.history = history;
  const latest = history.versions.at(-1);
  const rows = history.versions.map((v) =>
    el(
      'tr',
      { 'data-snapshot': v.snapshotId },
      el('td', {}, el('code', {}, v.snapshotId)),
      el('td', {}, when(v.finishedAt)),
      el(
        'td',
        {},
        el('span', { class: `badge event-${v.event}` }, v.event),
        v.inRecycleBin ? ' (recycle bin)' : '',
      ),
      el(
        'td',
        {},
        v.changes.map((c) => c.field).join(', ') ||
          (v.auditChanged.length || v.computedChanged?.length
            ? `audit or computed only: ${[...v.auditChanged, ...(v.computedChanged ?? [])].join(', ')}`
            : '–'),
      ),
      el('td', { class: 'value' }, changeList(v.changes)),
      el(
        'td',
        { class: 'actions' },
        v.values && v !== latest
          ? el('button', { type: 'button', onclick: () => chooseVersion(v) }, 'Restore this version')
          : '',
      ),
    ),
  );
  show(
    $('history-body'),
    el(
      'p',
      { class: 'count' },
      `${history.versions.length} versions of ${history.object} ${history.id} across ${history.snapshotsRead} snapshots.`,
    ),
    table(
      `History of ${history.object} ${history.id}, oldest first`,
      ['Snapshot', 'Finished (UTC)', 'Event', 'Fields changed', 'Before → after', 'Actions'],
      rows,
      {
        class: 'history',
      },
    ),
    history.journal?.length
      ? table(
          'Change events from the journal',
          ['Committed', 'Change', 'Fields'],
          history.journal.map((e) =>
            el(
              'tr',
              {},
              el('td', {}, when(e.committedAt)),
              el('td', {}, e.changeType),
              el('td', {}, e.changedFields.join(', ')),
            ),
          ),
        )
      : '',
    el('div', { id: 'history-choice' }),
  );
  status(`${history.versions.length} versions.`);
}

function chooseVersion(version) {
  const history = state.history;
  const latest = history.versions.at(-1);
  const deletedSince = latest.values === null || latest.inRecycleBin;
  const differing = deletedSince
    ? []
    : Object.keys(version.values).filter(
        (f) =>
          f !== 'Id' &&
          f !== 'IsDeleted' &&
          !AUDIT.has(f) &&
          // Only fields both versions hold and a restore can write, as the plan offers them.
          f in latest.values &&
          !(version.notRestorable ?? []).some((u) => u.field === f) &&
          (version.values[f] ?? '') !== (latest.values[f] ?? ''),
      );
  const form = el(
    'form',
    { class: 'choice', id: 'history-plan-form' },
    el(
      'h3',
      { tabindex: '-1', id: 'history-choice-title' },
      `Put ${history.id} back as it was at ${version.snapshotId}`,
    ),
    deletedSince
      ? el('p', {}, 'The record has been deleted since: the whole row comes back from this version.')
      : differing.length === 0
        ? el('p', {}, 'This version holds the same values as the newest one: there is nothing to put back.')
        : el(
            'fieldset',
            {},
            el('legend', {}, 'Fields to put back (they differ from the newest version)'),
            differing.map((f) =>
              el(
                'label',
                { class: 'check' },
                el('input', { type: 'checkbox', name: 'field', value: f, checked: true }),
                ` ${f}: `,
                el('span', { class: 'after' }, version.values[f] || '(empty)'),
              ),
            ),
          ),
    deletedSince || differing.length ? el('button', { type: 'submit' }, 'Build restore input') : '',
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const fields = [...form.querySelectorAll('input[name=field]:checked')].map((i) => i.value);
    if (!deletedSince && fields.length === 0) {
      status('Choose at least one field to put back.', 'error');
      return;
    }
    const built = await busy('Building the restore input…', () =>
      api('POST', '/api/plan/history', {
        object: history.object,
        id: history.id,
        to: version.snapshotId,
        ...(deletedSince ? {} : { fields }),
      }),
    );
    if (built)
      openBuilder(
        built.input,
        `${history.object} ${history.id} as at ${version.snapshotId}`,
        deletedSince ? 'restore-deleted' : 'revert-changes',
      );
  });
  show($('history-choice'), form);
  $('history-choice-title').focus();
}

// ---- diff ------------------------------------------------------------------------------------------

async function openDiff(a, b) {
  $('diff-a').value = a;
  $('diff-b').value = b;
  showScreen('diff', { focus: false });
  await renderDiff(a, b);
}

$('diff-form').addEventListener('submit', (event) => {
  event.preventDefault();
  void renderDiff($('diff-a').value, $('diff-b').value);
});

async function renderDiff(a, b) {
  const diff = await busy('Comparing the two snapshots…', () => api('POST', '/api/diff', { a, b }));
  if (!diff) return;
  state.diff = diff;
  const changedObjects = diff.objects.filter(
    (o) =>
      o.inserted.count +
        o.deletedToBin.count +
        o.gone.count +
        o.purged.count +
        o.undeleted.count +
        o.changed.count >
      0,
  );
  const rows = changedObjects.map((o) =>
    el(
      'tr',
      { 'data-object': o.object },
      el('th', { scope: 'row' }, o.object),
      el('td', { class: 'num' }, number(o.inserted.count)),
      el('td', { class: 'num' }, number(o.deletedToBin.count + o.gone.count)),
      el('td', { class: 'num' }, number(o.undeleted.count)),
      el('td', { class: 'num' }, number(o.changed.count)),
      el('td', {}, o.changed.fields.map((f) => `${f.field} (${f.rows})`).join(', ') || '–'),
      el('td', { class: 'num' }, number(o.unchanged)),
    ),
  );
  const deletedAny = diff.objects.some((o) => o.deletedToBin.count + o.gone.count > 0);
  const changedAny = diff.objects.some((o) => o.changed.count > 0);
  show(
    $('diff-body'),
    el(
      'p',
      { class: 'count' },
      `From ${diff.a.snapshotId} (${when(diff.a.finishedAt)}) to ${diff.b.snapshotId} (${when(diff.b.finishedAt)}): ` +
        `${changedObjects.length} of ${diff.objects.length} objects differ.`,
    ),
    rows.length
      ? table(
          'Rows per object that differs, from A to B',
          ['Object', 'Inserted', 'Deleted', 'Undeleted', 'Changed', 'Fields changed (rows)', 'Unchanged'],
          rows,
          { class: 'diff' },
        )
      : '',
    el(
      'p',
      { class: 'hint' },
      `Unchanged: ${
        diff.objects
          .filter((o) => !changedObjects.includes(o))
          .map((o) => o.object)
          .join(', ') || 'none'
      }.`,
    ),
    diff.objectsOnlyInA.length ? el('p', {}, `Only in A: ${diff.objectsOnlyInA.join(', ')}`) : '',
    diff.objectsOnlyInB.length ? el('p', {}, `Only in B: ${diff.objectsOnlyInB.join(', ')}`) : '',
    diff.metadata.compared
      ? el(
          'p',
          {},
          `Metadata: ${diff.metadata.added.length} added, ${diff.metadata.removed.length} removed, ${diff.metadata.changed.length} changed.`,
        )
      : '',
    deletedAny || changedAny
      ? diffPlanForm(diff, deletedAny, changedAny)
      : el('p', {}, 'No deleted or changed rows: there is nothing to restore.'),
  );
  status(`${changedObjects.length} objects differ.`);
}

function diffPlanForm(diff, deletedAny, changedAny) {
  const kinds = [
    deletedAny ? ['deleted', 'Bring back rows deleted since A'] : null,
    changedAny ? ['changed', 'Put back fields changed since A'] : null,
  ].filter(Boolean);
  const choices = el('div', { id: 'diff-choices' });
  const form = el(
    'form',
    { class: 'choice', id: 'diff-plan-form' },
    el('h3', {}, `Restore from A (${diff.a.snapshotId})`),
    el(
      'fieldset',
      {},
      el('legend', {}, 'What to restore'),
      kinds.map(([value, label], i) =>
        el(
          'label',
          { class: 'check' },
          el('input', { type: 'radio', name: 'kind', value, checked: i === 0 }),
          ` ${label}`,
        ),
      ),
    ),
    choices,
    el('button', { type: 'submit' }, 'Build restore input'),
  );
  const renderChoices = () => {
    const kind = form.querySelector('input[name=kind]:checked').value;
    const objects = diff.objects.filter(
      (o) => (kind === 'deleted' ? o.deletedToBin.count + o.gone.count : o.changed.count) > 0,
    );
    const rowsOf = (o) =>
      kind === 'deleted' ? [...o.deletedToBin.sample, ...o.gone.sample] : o.changed.details.map((d) => d.id);
    show(
      choices,
      el(
        'fieldset',
        {},
        el('legend', {}, 'Objects'),
        objects.map((o) =>
          el(
            'label',
            { class: 'check' },
            el('input', { type: 'checkbox', name: 'object', value: o.object, checked: true }),
            ` ${o.object} (${rowsOf(o).length} ${rowsOf(o).length === 1 ? 'row' : 'rows'})`,
          ),
        ),
      ),
      kind === 'changed'
        ? el(
            'fieldset',
            {},
            el('legend', {}, 'Fields'),
            // Only fields a restore can write: the plan refuses the others, saying why.
            objects.flatMap((o) =>
              o.changed.fields
                .filter((f) => !(o.notRestorable ?? []).some((u) => u.field === f.field))
                .map((f) =>
                  el(
                    'label',
                    { class: 'check' },
                    el('input', {
                      type: 'checkbox',
                      name: 'field',
                      value: `${o.object}.${f.field}`,
                      checked: !AUDIT.has(f.field),
                    }),
                    ` ${o.object}.${f.field} (${f.rows} rows)`,
                  ),
                ),
            ),
          )
        : '',
      el(
        'details',
        {},
        el('summary', {}, 'Rows (all chosen unless you untick some)'),
        objects.flatMap((o) =>
          rowsOf(o).map((id) =>
            el(
              'label',
              { class: 'check' },
              el('input', { type: 'checkbox', name: 'id', value: id, checked: true }),
              ` ${o.object} `,
              el('code', {}, id),
            ),
          ),
        ),
      ),
    );
  };
  form.addEventListener('change', (event) => {
    if (event.target.name === 'kind') renderChoices();
  });
  renderChoices();
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const kind = form.querySelector('input[name=kind]:checked').value;
    const checked = (name) => [...form.querySelectorAll(`input[name=${name}]:checked`)].map((i) => i.value);
    const all = (name) => form.querySelectorAll(`input[name=${name}]`).length;
    const ids = checked('id');
    const body = {
      a: diff.a.snapshotId,
      b: diff.b.snapshotId,
      kind,
      objects: checked('object'),
      ...(kind === 'changed' ? { fields: checked('field') } : {}),
      ...(ids.length < all('id') ? { ids } : {}),
    };
    const built = await busy('Building the restore input…', () => api('POST', '/api/plan/diff', body));
    if (built)
      openBuilder(
        built.input,
        `${kind} rows from ${diff.a.snapshotId} to ${diff.b.snapshotId}`,
        kind === 'deleted' ? 'restore-deleted' : 'revert-changes',
      );
  });
  return form;
}

// ---- restore input builder ---------------------------------------------------------------------------

function openBuilder(input, source, suggestedMode) {
  state.input = input;
  state.dryRun = null;
  const json = JSON.stringify(input, null, 2);
  const realMode = el(
    'select',
    { id: 'real-mode', name: 'realMode' },
    WRITING_MODES.map((m) => el('option', { value: m, selected: m === suggestedMode }, m)),
  );
  show(
    $('builder-body'),
    el('p', {}, `Built from ${source}. It is a dry run: it plans and writes nothing.`),
    el(
      'pre',
      { id: 'restore-input', class: 'json', tabindex: '0', 'aria-label': 'Restore input JSON' },
      json,
    ),
    el(
      'div',
      { class: 'bar' },
      el('button', { type: 'button', id: 'copy-input', onclick: () => copyInput(json) }, 'Copy'),
    ),
    state.session.connected
      ? el(
          'form',
          { id: 'dry-run-form', class: 'bar' },
          el('label', {}, 'Mode of the real run, after the dry run ', realMode),
          el('button', { type: 'submit' }, 'Run the dry run'),
        )
      : el(
          'p',
          { class: 'hint', id: 'dry-run-help' },
          'To see the plan, save this input to a file and run ',
          el('code', {}, 'sfbackup restore --instance-url URL --access-token TOKEN --store DIR --input FILE'),
          ', or start this page with ',
          el('code', {}, 'sfbackup ui --instance-url URL --access-token TOKEN'),
          ' to run the dry run here.',
        ),
    el('div', { id: 'dry-run-result' }),
  );
  // The real run uses the mode its dry run was run for: another mode needs its own dry run.
  realMode.addEventListener('change', () => {
    state.dryRun = null;
    $('dry-run-result').replaceChildren();
  });
  $('dry-run-form')?.addEventListener('submit', (event) => {
    event.preventDefault();
    void dryRun(realMode.value);
  });
  showScreen('builder');
}

async function copyInput(json) {
  try {
    await navigator.clipboard.writeText(json);
    status('The restore input is on the clipboard.');
  } catch {
    const range = document.createRange();
    range.selectNodeContents($('restore-input'));
    getSelection().removeAllRanges();
    getSelection().addRange(range);
    status('The clipboard is not available: the input is selected, copy it with Ctrl+C.', 'error');
  }
}

async function dryRun(realMode) {
  const outcome = await busy('Running the dry run (it plans, and writes nothing)…', () =>
    api('POST', '/api/restore/dry-run', { input: state.input, realMode }),
  );
  if (!outcome) return;
  state.dryRun = outcome;
  const ok = outcome.status === 'SUCCEEDED' && outcome.dryRunId;
  const confirm = ok
    ? el(
        'form',
        { id: 'confirm-form', class: 'choice danger' },
        el('h3', {}, `Restore for real (${outcome.realMode})`),
        el('p', {}, 'This writes to the org. Type the target org id to confirm you mean this org.'),
        el(
          'div',
          { class: 'bar' },
          el(
            'label',
            {},
            'Org id ',
            el('input', {
              id: 'confirm-org-id',
              name: 'confirmOrgId',
              autocomplete: 'off',
              maxlength: '18',
              required: true,
            }),
          ),
          el('button', { type: 'submit', id: 'confirm-run' }, 'Restore for real'),
        ),
      )
    : '';
  show(
    $('dry-run-result'),
    el(
      'h3',
      { tabindex: '-1', id: 'dry-run-title' },
      `Dry run: ${outcome.status}${outcome.error ? ` (${outcome.error})` : ''}`,
    ),
    el('pre', { class: 'plan', id: 'dry-run-plan' }, outcome.message),
    outcome.planKey ? el('p', {}, 'Plan stored at ', el('code', {}, outcome.planKey)) : '',
    confirm,
    el('div', { id: 'real-run-result' }),
  );
  $('confirm-form')?.addEventListener('submit', (event) => {
    event.preventDefault();
    void realRun($('confirm-org-id').value.trim());
  });
  $('dry-run-title').focus();
  status(`Dry run ${outcome.status}.`, ok ? 'info' : 'error');
}

async function realRun(confirmOrgId) {
  const outcome = await busy('Restoring…', () =>
    api('POST', '/api/restore/run', { dryRunId: state.dryRun.dryRunId, confirmOrgId }),
  );
  if (!outcome) return;
  $('confirm-form').remove();
  show(
    $('real-run-result'),
    el(
      'h3',
      { tabindex: '-1', id: 'real-run-title' },
      `Restore: ${outcome.status}${outcome.error ? ` (${outcome.error})` : ''}`,
    ),
    el('pre', { class: 'plan' }, outcome.message),
    outcome.reportKey ? el('p', {}, 'Report stored at ', el('code', {}, outcome.reportKey)) : '',
  );
  $('real-run-title').focus();
  status(`Restore ${outcome.status}.`, outcome.status === 'SUCCEEDED' ? 'info' : 'error');
}

// ---- start -------------------------------------------------------------------------------------------

async function start() {
  const loaded = await busy('Reading the vault…', loadTimeline);
  if (!loaded) return;
  await fillSearchObjects();
  await fillHistoryObjects();
  status(`Loaded ${state.snapshots.length} snapshots.`);
  document.body.dataset.ready = 'true';
}

void start();
