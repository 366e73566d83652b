// idicbot admin page: offers (list, edit with live preview, history, diff,
// rollback) and segment rules (preview, save). Plain DOM, no libraries.
'use strict';

const csrf = document.querySelector('meta[name="csrf-token"]').content;
const view = document.getElementById('view');
let segmentNames = [];
let segmentLabels = {};

// ---- language ----
// The page is in Vietnamese unless the admin chose English (the switch in
// the header sets the idicbot_lang cookie; the server writes it as <html
// lang>). A message is a text with {name} placeholders, or, for counts,
// one text per plural category of Intl.PluralRules (Vietnamese has only
// "other"; English "one" and "other").
const LANG = document.documentElement.lang === 'en' ? 'en' : 'vi';
const MSG = {
  vi: {
    loading: 'Đang tải…', offers: 'Ưu đãi', newOffer: 'Ưu đãi mới', all: 'tất cả nhóm', always: 'luôn luôn',
    from: 'từ {d}', until: 'đến {d}', lastDays: '{n} ngày cuối tháng', birthdayMonth: 'tháng sinh nhật',
    pause: 'Tạm dừng', activate: 'Kích hoạt', history: 'Lịch sử', confirmPause: 'Tạm dừng thật?',
    confirmPauseHint: 'Bấm lần nữa để tạm dừng: khách sẽ không còn nhận ưu đãi này.',
    colOffer: 'Ưu đãi', colStatus: 'Trạng thái', colSegments: 'Nhóm khách', colValidity: 'Hiệu lực', colPriority: 'Ưu tiên',
    colShown: 'Đã hiện', colAccepted: 'Đã nhận', colConversion: 'Chuyển đổi', colVersion: 'Phiên bản',
    st_active: 'đang chạy', st_paused: 'tạm dừng', st_draft: 'nháp',
    statusNow: '{id}: {status} (phiên bản {v})',
    fId: 'Mã', fIdHint: 'a-z 0-9 _ -', fName: 'Tên', fStatus: 'Trạng thái', fPriority: 'Ưu tiên', fPriorityHint: 'số lớn hơn thắng',
    fSegments: 'Nhóm khách nhận', fSegmentsHint: 'không chọn nhóm nào: mọi nhóm',
    fEligibility: 'Điều kiện', fEligibilityHint: 'không bắt buộc; chọn bên dưới hoặc viết, ví dụ total_spent > 1000000',
    fFrom: 'Hiệu lực từ', fUntil: 'Hiệu lực đến', fLastDays: 'Những ngày cuối tháng', fLastDaysHint: '0: ngày nào cũng được',
    fBirthday: 'Chỉ trong tháng sinh nhật', yes: 'có', fCap: 'Giãn cách (ngày)', fCapHint: 'mỗi N ngày một lần',
    fMaxShows: 'Số lần hiện tối đa', fMaxShowsHint: '0: không giới hạn', fCode: 'Mã giảm giá', fButtons: 'Nút bấm',
    btn_accept: 'nhận', btn_more: 'xem thêm', btn_decline: 'từ chối',
    fTemplate: 'Nội dung ({l})', fDetails: '"Xem thêm" ({l})',
    insertField: 'Chèn trường…', insertHint: 'Chèn vào ô nội dung đang chọn',
    helpers: 'Hàm: vnd, percent, upper, lower, title, default',
    create: 'Tạo ưu đãi', save: 'Lưu', newOfferNote: 'ưu đãi mới', editing: 'đang sửa phiên bản {v}', saved: 'đã lưu: phiên bản {v}',
    savedToast: 'Đã lưu {id}, phiên bản {v}. Tin nhắn tiếp theo sẽ dùng nó.',
    reload: 'Tải lại (thay đổi của bạn sẽ mất)',
    notSaved: {other: 'Chưa lưu: {n} vấn đề, hiện cạnh các ô.'},
    preview: 'Xem trước', for: 'Cho', findCustomer: 'Tìm khách: tên, số điện thoại hoặc mã',
    sampleOf: 'Khách mẫu nhóm {s}', noName: '(không tên)', noCustomer: 'Không tìm thấy khách nào.',
    sampleCustomer: 'Khách mẫu ', customer: 'Khách ', segmentOf: ' · nhóm {s} · ',
    shownNow: 'sẽ được hiện ngay', notShownNow: 'hiện không được hiện (trạng thái, nhóm, hiệu lực hoặc điều kiện)',
    noTemplate: ' (không có nội dung {l}: dùng {f})', back: '← Ưu đãi',
    historyOf: 'Lịch sử của {id}', edit: 'Sửa', colWhen: 'Lúc', colWho: 'Người sửa', colFrom: 'Từ', colWhat: 'Thay đổi',
    current: 'hiện tại', diff: 'So sánh', rollbackTo: 'Quay về v{v}', confirmRollback: 'Quay về v{v} thật?',
    versionDiff: 'Phiên bản {a} → {b}', rolledBack: 'Đã quay về phiên bản {v}: giờ là phiên bản {now}.',
    segments: 'Nhóm khách', segmentsIntro: 'Các quy tắc được xét theo thứ tự; quy tắc đầu tiên đúng quyết định nhóm của khách.',
    colSegment: 'Nhóm', colRule: 'Quy tắc', colCustomers: 'Số khách', rule: 'Quy tắc', validate: 'Kiểm tra & xem trước', cancel: 'Huỷ',
    wouldMove: {other: '{n} khách sẽ vào nhóm, {out} rời nhóm: {cur} → {after} trên {total}.'},
    savedRule: {other: 'Đã lưu quy tắc của {s}; {n} khách đã đổi nhóm.'},
    ruleChanges: 'Các lần đổi quy tắc', colTo: 'Thành', colMoved: 'Đã chuyển', noRuleChange: 'Chưa có quy tắc nào được đổi ở đây.',
    build: 'Tạo điều kiện từ danh sách', bField: 'Dữ liệu', bOp: 'So sánh', bValue: 'Giá trị', bJoin: 'Nối bằng',
    bAnd: 'và (&&)', bOr: 'hoặc (||)', bAdd: 'Thêm điều kiện', bNeedValue: 'Nhập một giá trị.', bNeedNumber: 'Giá trị phải là một số.',
    rawRule: 'Biểu thức (có thể sửa tay)',
    op_eq: 'bằng', op_ne: 'khác', op_gt: 'lớn hơn', op_ge: 'từ … trở lên', op_lt: 'nhỏ hơn', op_le: 'tối đa',
    op_has: 'có chứa', op_hasnt: 'không chứa', op_empty: 'trống', op_nonempty: 'không trống', op_true: 'đúng', op_false: 'sai',
    lineCol: 'dòng {l}, cột {c}: ', line: 'dòng {l}: ', sample: '(khách mẫu nhóm {s}) ',
    errEOF: 'quy tắc chưa viết xong: thiếu phần cuối (một giá trị hoặc dấu ngoặc đóng).',
    errUnknownName: 'không có dữ liệu “{x}”. Dữ liệu dùng được: {list}.',
    errNoField: 'không có trường .{x}. Các trường dùng được: {list}.',
    errUnclosed: 'thiếu }} để đóng {{.',
    errTypes: 'hai bên phép so sánh khác kiểu (ví dụ so một số với chữ): số viết không có dấu ngoặc kép, chữ thì có.',
    errUnexpected: 'có ký tự hoặc từ không đúng chỗ: “{x}”.',
    technical: 'Chi tiết kỹ thuật',
    messages: 'Câu trả lời của bot', messagesIntro: 'Những câu bot tự nói với khách. Sửa câu nào thì câu đó đổi từ tin nhắn kế tiếp; để nguyên là dùng câu có sẵn. %s, %d là chỗ bot điền tên, giá, mã… — giữ nguyên chúng.',
    addrSelf: 'Bot xưng là', addrCustomer: 'Bot gọi khách là', filter: 'Tìm câu…', botSays: 'Bot nói: ',
    edited: 'đã sửa', msgVersion: 'phiên bản {v}', msgFile: 'theo tệp messages.yaml',
    msgSaved: 'Đã lưu câu trả lời, phiên bản {v}. Tin nhắn kế tiếp sẽ dùng chúng.', msgHistory: 'Các phiên bản',
    restore: 'Khôi phục v{v}', confirmRestore: 'Khôi phục v{v} thật?', noMsgHistory: 'Chưa lưu phiên bản nào ở đây: bot dùng tệp messages.yaml.',
  },
  en: {
    loading: 'Loading…', offers: 'Offers', newOffer: 'New offer', all: 'all', always: 'always',
    from: 'from {d}', until: 'until {d}', lastDays: 'last {n} days of month', birthdayMonth: 'birthday month',
    pause: 'Pause', activate: 'Activate', history: 'History', confirmPause: 'Really pause?',
    confirmPauseHint: 'Click again to pause: customers will stop getting this offer.',
    colOffer: 'Offer', colStatus: 'Status', colSegments: 'Segments', colValidity: 'Validity', colPriority: 'Priority',
    colShown: 'Shown', colAccepted: 'Accepted', colConversion: 'Conversion', colVersion: 'Version',
    st_active: 'active', st_paused: 'paused', st_draft: 'draft',
    statusNow: '{id} is {status} (version {v})',
    fId: 'Id', fIdHint: 'a-z 0-9 _ -', fName: 'Name', fStatus: 'Status', fPriority: 'Priority', fPriorityHint: 'higher wins',
    fSegments: 'Target segments', fSegmentsHint: 'none checked: every segment',
    fEligibility: 'Eligibility', fEligibilityHint: 'optional; pick below or write, e.g. total_spent > 1000000',
    fFrom: 'Valid from', fUntil: 'Valid until', fLastDays: 'Last days of month', fLastDaysHint: '0: any day',
    fBirthday: 'Birthday month only', yes: 'yes', fCap: 'Cap (days)', fCapHint: 'once per N days',
    fMaxShows: 'Max shows', fMaxShowsHint: '0: no limit', fCode: 'Voucher code', fButtons: 'Buttons',
    btn_accept: 'accept', btn_more: 'more', btn_decline: 'decline',
    fTemplate: 'Template ({l})', fDetails: '"Tell me more" ({l})',
    insertField: 'Insert a field…', insertHint: 'Inserted into the template box you are in',
    helpers: 'Helpers: vnd, percent, upper, lower, title, default',
    create: 'Create offer', save: 'Save', newOfferNote: 'new offer', editing: 'editing version {v}', saved: 'saved: version {v}',
    savedToast: 'Saved {id}, version {v}. The next message uses it.',
    reload: 'Reload (your changes are lost)',
    notSaved: {one: 'Not saved: {n} problem, shown next to the field.', other: 'Not saved: {n} problems, shown next to the fields.'},
    preview: 'Preview', for: 'For', findCustomer: 'Find a customer: name, phone or id',
    sampleOf: 'Sample {s} customer', noName: '(no name)', noCustomer: 'No customer found.',
    sampleCustomer: 'Sample customer ', customer: 'Customer ', segmentOf: ' · segment {s} · ',
    shownNow: 'would be shown now', notShownNow: 'not shown now (status, segment, validity or eligibility)',
    noTemplate: ' (no {l} template: uses {f})', back: '← Offers',
    historyOf: 'History of {id}', edit: 'Edit', colWhen: 'When', colWho: 'Who', colFrom: 'From', colWhat: 'What',
    current: 'current', diff: 'Diff', rollbackTo: 'Roll back to v{v}', confirmRollback: 'Really roll back to v{v}?',
    versionDiff: 'Version {a} → {b}', rolledBack: 'Rolled back to version {v}: now version {now}.',
    segments: 'Segments', segmentsIntro: 'Rules are evaluated in order; the first that is true is the customer\'s segment.',
    colSegment: 'Segment', colRule: 'Rule', colCustomers: 'Customers', rule: 'Rule', validate: 'Validate & preview', cancel: 'Cancel',
    wouldMove: {one: '{n} customer would move in, {out} out: {cur} → {after} of {total}.', other: '{n} customers would move in, {out} out: {cur} → {after} of {total}.'},
    savedRule: {one: 'Saved the rule of {s}; {n} customer moved.', other: 'Saved the rule of {s}; {n} customers moved.'},
    ruleChanges: 'Rule changes', colTo: 'To', colMoved: 'Moved', noRuleChange: 'No rule has been changed here yet.',
    build: 'Build a condition from lists', bField: 'Fact', bOp: 'Comparison', bValue: 'Value', bJoin: 'Join with',
    bAnd: 'and (&&)', bOr: 'or (||)', bAdd: 'Add condition', bNeedValue: 'Enter a value.', bNeedNumber: 'The value must be a number.',
    rawRule: 'Expression (you can edit it)',
    op_eq: 'is', op_ne: 'is not', op_gt: 'more than', op_ge: 'at least', op_lt: 'less than', op_le: 'at most',
    op_has: 'contains', op_hasnt: 'does not contain', op_empty: 'is empty', op_nonempty: 'is not empty', op_true: 'yes', op_false: 'no',
    lineCol: 'line {l}, column {c}: ', line: 'line {l}: ', sample: '(sample {s} customer) ',
    errEOF: 'the rule is unfinished: its end is missing (a value or a closing bracket).',
    errUnknownName: 'there is no fact “{x}”. Facts you can use: {list}.',
    errNoField: 'there is no field .{x}. Fields you can use: {list}.',
    errUnclosed: 'a {{ is not closed with }}.',
    errTypes: 'the two sides of a comparison are of different kinds (a number compared with text, say): numbers go without quotes, text in quotes.',
    errUnexpected: 'something is out of place: “{x}”.',
    technical: 'Technical details',
    messages: "Bot's phrases", messagesIntro: 'What the bot itself says to customers. A phrase you change is used from the next message; one you leave is the built-in one. %s and %d are where the bot fills in a name, a price, a code… — keep them.',
    addrSelf: 'The bot calls itself', addrCustomer: 'The bot calls the customer', filter: 'Find a phrase…', botSays: 'The bot says: ',
    edited: 'edited', msgVersion: 'version {v}', msgFile: 'from the messages.yaml file',
    msgSaved: 'Saved the phrases, version {v}. The next message uses them.', msgHistory: 'Versions',
    restore: 'Restore v{v}', confirmRestore: 'Really restore v{v}?', noMsgHistory: 'No version saved here yet: the bot uses the messages.yaml file.',
  },
};
const plural = new Intl.PluralRules(LANG);
const numFmt = new Intl.NumberFormat(LANG === 'vi' ? 'vi-VN' : 'en-US');

// t prints a message in the page's language; vars.n picks the plural form.
function t(key, vars) {
  vars = vars || {};
  let m = MSG[LANG][key];
  if (m === undefined) m = MSG.vi[key];
  if (m === undefined) return '[' + key + ']';
  if (typeof m === 'object') m = m[plural.select(vars.n || 0)] || m.other;
  return m.replace(/\{(\w+)\}/g, (_, k) => (vars[k] === undefined ? '' : (typeof vars[k] === 'number' ? numFmt.format(vars[k]) : vars[k])));
}

// segLabel is a segment as the shop named it in the page's language.
function segLabel(name) { return segmentLabels[name] || name; }

// FACTS are what segment rules and offer eligibility read (crm.Facts),
// with their kind and a name per language, for the condition builder and
// the error that names a fact that does not exist.
const FACTS = [
  ['order_count', 'number', 'số đơn', 'number of orders'],
  ['total_spent', 'number', 'tổng chi (₫)', 'total spent (₫)'],
  ['avg_order_value', 'number', 'giá trị trung bình mỗi đơn (₫)', 'average order (₫)'],
  ['days_since_last_order', 'number', 'số ngày từ đơn gần nhất', 'days since the last order'],
  ['days_since_last_message', 'number', 'số ngày từ tin nhắn gần nhất', 'days since the last message'],
  ['days_since_first_contact', 'number', 'số ngày từ lần đầu liên hệ', 'days since first contact'],
  ['avg_order_interval_days', 'number', 'số ngày trung bình giữa hai đơn', 'average days between orders'],
  ['messages_30d', 'number', 'tin nhắn trong 30 ngày', 'messages in 30 days'],
  ['offers_accepted', 'number', 'số ưu đãi đã nhận', 'offers accepted'],
  ['tags', 'list', 'nhãn', 'tags'],
  ['interests', 'list', 'sản phẩm đã hỏi', 'products asked about'],
  ['bought', 'list', 'sản phẩm đã mua', 'products bought'],
  ['is_business', 'bool', 'khách doanh nghiệp', 'business customer'],
  ['opted_out', 'bool', 'từ chối nhận ưu đãi', 'opted out of offers'],
  ['has_phone', 'bool', 'có số điện thoại', 'has a phone'],
  ['segment', 'text', 'nhóm hiện tại', 'current segment'],
  ['language', 'text', 'ngôn ngữ', 'language'],
  ['source', 'text', 'nguồn', 'source'],
  ['sentiment', 'text', 'tâm trạng (positive, neutral, negative)', 'mood (positive, neutral, negative)'],
];
const OPS = {
  number: [['>=', 'op_ge'], ['>', 'op_gt'], ['==', 'op_eq'], ['!=', 'op_ne'], ['<', 'op_lt'], ['<=', 'op_le']],
  list: [['has', 'op_has'], ['hasnt', 'op_hasnt'], ['empty', 'op_empty'], ['nonempty', 'op_nonempty']],
  bool: [['true', 'op_true'], ['false', 'op_false']],
  text: [['==', 'op_eq'], ['!=', 'op_ne']],
};
// TEMPLATE_FIELDS are what offer templates may use (crm.TemplateData).
const TEMPLATE_FIELDS = [
  ['{{.FirstName}}', 'tên gọi của khách', 'first name'], ['{{.Name}}', 'họ tên', 'full name'],
  ['{{.Code}}', 'mã giảm giá', 'voucher code'], ['{{.Segment}}', 'nhóm khách', 'segment'], ['{{.Offer}}', 'tên ưu đãi', 'offer name'],
  ['{{.Product}}', 'sản phẩm', 'product'], ['{{.ProductPrice}}', 'giá sản phẩm', 'product price'],
  ['{{.Orders}}', 'số đơn', 'orders'], ['{{.TotalSpent}}', 'tổng chi', 'total spent'], ['{{.Points}}', 'điểm', 'points'],
  ['{{.Until}}', 'hạn dùng', 'valid until'], ['{{vnd .ProductPrice}}', 'giá dạng 1.500.000 ₫', 'price as 1.500.000 ₫'],
];

// plainError turns a checker's message (expr's, text/template's) into
// words an owner reads, the valid names listed; the original stays
// available as technical details.
function plainError(msg) {
  const s = String(msg || '');
  let m;
  if (/unexpected token EOF/.test(s) || /unexpected EOF/.test(s)) return t('errEOF');
  if (/^unclosed action/.test(s)) return t('errUnclosed');
  if ((m = s.match(/unknown name ([\w.]+)/))) return t('errUnknownName', {x: m[1], list: FACTS.map((f) => f[0]).join(', ')});
  if ((m = s.match(/(?:there is )?no field \.?(\w+)/))) return t('errNoField', {x: m[1], list: TEMPLATE_FIELDS.slice(0, 11).map((f) => f[0].replace(/[{}]/g, '')).join(' ')});
  if (/mismatched types/.test(s)) return t('errTypes');
  if ((m = s.match(/unexpected token \w+\("?([^")]*)"?\)/))) return t('errUnexpected', {x: m[1]});
  return s;
}

// ruleError shows a rule error ("segment x: rule line 1 column 35: …") in
// plain words, the checker's text behind a disclosure.
function ruleError(msg) {
  const s = String(msg || '');
  const m = s.match(/line (\d+) column (\d+): ([\s\S]*)$/);
  const plain = m ? t('lineCol', {l: m[1], c: m[2]}) + plainError(m[3]) : plainError(s);
  return h('div', {class: 'alert rule-error'}, h('div', {class: 'plain'}, plain),
    plain !== s ? h('details', {}, h('summary', {}, t('technical')), h('pre', {}, s)) : null);
}

// conditionBuilder writes conditions into an expression textarea from
// pick-lists: a fact, a comparison, a value, joined with && or ||.
function conditionBuilder(area, idPrefix) {
  const fact = h('select', {id: idPrefix + '-fact', class: 'b-fact'}, FACTS.map((f) =>
    h('option', {value: f[0]}, (LANG === 'en' ? f[3] : f[2]) + ' — ' + f[0])));
  const op = h('select', {id: idPrefix + '-op', class: 'b-op'});
  const value = h('input', {type: 'text', id: idPrefix + '-value', class: 'b-value', autocomplete: 'off'});
  const join = h('select', {id: idPrefix + '-join', class: 'b-join'}, h('option', {value: '&&'}, t('bAnd')), h('option', {value: '||'}, t('bOr')));
  const err = h('div', {class: 'err'});
  const kind = () => FACTS.find((f) => f[0] === fact.value)[1];
  const fillOps = () => {
    put(op, OPS[kind()].map(([v, k]) => h('option', {value: v}, t(k))));
    syncValue();
  };
  const syncValue = () => {
    const k = kind();
    value.hidden = k === 'bool' || op.value === 'empty' || op.value === 'nonempty';
    value.inputMode = k === 'number' ? 'decimal' : 'text';
  };
  fact.addEventListener('change', fillOps);
  op.addEventListener('change', syncValue);
  const add = h('button', {type: 'button', class: 'b-add', id: idPrefix + '-add', onclick: () => {
    const f = fact.value, o = op.value, k = kind();
    const raw = value.value.trim();
    let clause;
    err.textContent = '';
    if (k === 'bool') clause = o === 'true' ? f : '!' + f;
    else if (o === 'empty') clause = `len(${f}) == 0`;
    else if (o === 'nonempty') clause = `len(${f}) > 0`;
    else {
      if (!raw) { err.textContent = t('bNeedValue'); return; }
      if (k === 'number') {
        const n = Number(raw.replace(/[.,\s₫đ]/g, (c) => (c === ',' ? '.' : '')));
        if (!Number.isFinite(n)) { err.textContent = t('bNeedNumber'); return; }
        clause = `${f} ${o} ${n}`;
      } else if (k === 'list') {
        clause = o === 'has' ? `${JSON.stringify(raw.toLowerCase())} in ${f}` : `!(${JSON.stringify(raw.toLowerCase())} in ${f})`;
      } else clause = `${f} ${o} ${JSON.stringify(raw)}`;
    }
    let cur = area.value.trim();
    if (cur === 'true') cur = '';
    if (cur && join.value === '&&' && /\|\|/.test(cur) && !/^\(.*\)$/.test(cur)) cur = '(' + cur + ')';
    area.value = cur ? `${cur} ${join.value} ${clause}` : clause;
    value.value = '';
    area.dispatchEvent(new Event('input', {bubbles: true}));
  }}, t('bAdd'));
  fillOps();
  return h('fieldset', {class: 'builder', id: idPrefix},
    h('legend', {}, t('build')),
    h('div', {class: 'builder-row'},
      h('label', {}, t('bField'), fact), h('label', {}, t('bOp'), op), h('label', {}, t('bValue'), value),
      h('label', {}, t('bJoin'), join)),
    h('div', {class: 'bar'}, add), err);
}

// h builds an element: h('div', {class: 'x', onclick: fn}, child, 'text').
function h(tag, attrs, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'value') el.value = v;
    else if (k === 'checked') el.checked = !!v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const kid of kids.flat()) {
    if (kid === null || kid === undefined || kid === false) continue;
    el.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
  }
  return el;
}

// put replaces el's children, skipping empty ones.
function put(el, ...kids) {
  el.replaceChildren(...kids.flat().filter((k) => k !== null && k !== undefined && k !== false));
}

async function api(method, path, body) {
  const opts = {method, credentials: 'same-origin', headers: {'X-CSRF-Token': csrf}};
  if (body !== undefined) {
    opts.headers['Content-Type'] = 'application/json';
    opts.body = JSON.stringify(body);
  }
  const r = await fetch('/api/admin' + path, opts);
  const ct = r.headers.get('Content-Type') || '';
  const data = ct.includes('json') ? await r.json() : await r.text();
  if (r.status === 401) { location.reload(); }
  if (!r.ok) {
    const e = new Error((data && data.error && data.error.message) || r.statusText);
    e.status = r.status;
    e.detail = (data && data.error) || {};
    throw e;
  }
  return data;
}

let toastTimer;
function toast(msg) {
  const t = document.getElementById('toast');
  t.textContent = msg;
  t.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { t.hidden = true; }, 4000);
}

function fmtTime(s) {
  if (!s || s.startsWith('0001')) return '';
  const d = new Date(s);
  return d.toLocaleString(LANG);
}

function validityText(v) {
  const parts = [];
  if (v && v.from) parts.push(t('from', {d: new Date(v.from).toLocaleDateString(LANG)}));
  if (v && v.until) parts.push(t('until', {d: new Date(v.until).toLocaleDateString(LANG)}));
  if (v && v.last_days_of_month) parts.push(t('lastDays', {n: v.last_days_of_month}));
  if (v && v.birthday_month) parts.push(t('birthdayMonth'));
  return parts.length ? parts.join(', ') : t('always');
}

// ---- routing ----

function route() {
  const hash = location.hash || '#/offers';
  const parts = hash.slice(2).split('/').map(decodeURIComponent);
  for (const a of document.querySelectorAll('.top nav a')) {
    a.classList.toggle('active', hash.startsWith(a.getAttribute('href')));
  }
  // The language switch comes back to the view the admin is on.
  const sw = document.getElementById('lang-switch');
  if (sw) sw.search = '?to=' + (LANG === 'vi' ? 'en' : 'vi') + '&back=' + encodeURIComponent(hash);
  put(view, h('p', {class: 'muted'}, t('loading')));
  const fail = (e) => put(view, h('p', {class: 'alert'}, e.message));
  switch (parts[0]) {
    case 'segments': return showSegments().catch(fail);
    case 'messages': return showMessages().catch(fail);
    case 'campaigns': return showCampaigns(parts[1], parts[2]).catch(fail);
    case 'faq': return showFAQ().catch(fail);
    case 'new': return showEditor(null).catch(fail);
    case 'offer':
      if (parts[2] === 'history') return showHistory(parts[1]).catch(fail);
      return showEditor(parts[1]).catch(fail);
    default: return showOffers().catch(fail);
  }
}

async function loadSegments() {
  const res = await api('GET', '/segments');
  segmentNames = res.segments.map((s) => s.name);
  segmentLabels = Object.fromEntries(res.segments.map((s) => [s.name, (s.label && s.label[LANG]) || s.name]));
  return res;
}

// ---- offer list ----

async function showOffers() {
  const [{offers}] = await Promise.all([api('GET', '/offers'), loadSegments()]);
  const cols = ['colOffer', 'colStatus', 'colSegments', 'colValidity', 'colPriority', 'colShown', 'colAccepted', 'colConversion', 'colVersion', ''];
  // Each cell carries its column's name: on a phone the rows are cards and
  // every value shows its name beside it.
  const td = (i, attrs, ...kids) => h('td', Object.assign({'data-label': cols[i] ? t(cols[i]) : null}, attrs), ...kids);
  const rows = offers.map((o) => h('tr', {'data-offer': o.id},
    td(0, {class: 'title-cell'}, h('a', {href: '#/offer/' + encodeURIComponent(o.id), class: 'offer-link'}, o.name || o.id), h('div', {class: 'muted'}, o.id)),
    td(1, {}, h('span', {class: 'badge ' + o.status, 'data-status': o.status}, t('st_' + o.status))),
    td(2, {}, (o.segments && o.segments.length) ? o.segments.map(segLabel).join(', ') : t('all')),
    td(3, {class: 'hide-sm'}, validityText(o.validity)),
    td(4, {class: 'num'}, o.priority),
    td(5, {class: 'num'}, o.stats.shown),
    td(6, {class: 'num'}, o.stats.accepted),
    td(7, {class: 'num'}, (o.stats.conversion * 100).toFixed(1) + '%'),
    td(8, {class: 'hide-sm'}, 'v' + o.version, h('div', {class: 'muted'}, o.updated_by || '')),
    td(9, {class: 'actions'},
      o.status === 'active' ? confirmButton({class: 'status-btn'}, t('pause'), t('confirmPause'), t('confirmPauseHint'), () => setStatus(o.id, 'pause'))
        : h('button', {class: 'status-btn', onclick: () => setStatus(o.id, 'activate')}, t('activate')),
      ' ', h('a', {href: '#/offer/' + encodeURIComponent(o.id) + '/history'}, t('history')))));
  put(view,
    h('div', {class: 'bar'}, h('h1', {class: 'grow'}, t('offers')), h('a', {href: '#/new'}, h('button', {class: 'primary'}, t('newOffer')))),
    h('div', {class: 'scroll card'}, h('table', {id: 'offers', class: 'cards'},
      h('thead', {}, h('tr', {}, cols.map((c, i) =>
        h('th', {class: (i === 3 || i === 8) ? 'hide-sm' : null}, c ? t(c) : '')))),
      h('tbody', {}, rows))));
}

// confirmButton is a button for something hard to undo: the first press
// asks (the button changes to the question), the second does it; the
// question goes away by itself after a few seconds.
function confirmButton(attrs, label, question, hint, action) {
  let armed = false, timer;
  const b = h('button', Object.assign({type: 'button'}, attrs), label);
  b.addEventListener('click', () => {
    if (!armed) {
      armed = true;
      b.textContent = question;
      b.classList.add('confirming');
      b.setAttribute('aria-describedby', 'toast');
      toast(hint);
      timer = setTimeout(() => { armed = false; b.textContent = label; b.classList.remove('confirming'); }, 6000);
      return;
    }
    clearTimeout(timer);
    armed = false;
    action();
  });
  return b;
}

async function setStatus(id, action) {
  try {
    const res = await api('POST', '/offers/' + encodeURIComponent(id) + '/' + action);
    toast(t('statusNow', {id, status: t('st_' + res.offer.status), v: String(res.offer.version)}));
    route();
  } catch (e) {
    toast(e.message);
  }
}

// ---- offer editor ----

const FIELDS = ['id', 'name', 'status', 'segments', 'eligibility', 'validity.from', 'validity.until',
  'validity.last_days_of_month', 'validity.birthday_month', 'priority', 'cap_days', 'max_shows', 'code', 'buttons',
  'templates.vi', 'templates.en', 'details.vi', 'details.en'];

function toLocalInput(s) {
  if (!s) return '';
  const d = new Date(s);
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

// problemText is a problem as the server checked it (crm.Problem), shown
// next to its field: "line 2, column 5: (sample vip customer) reason".
function problemText(p) {
  return (p.line ? (p.column ? t('lineCol', {l: String(p.line), c: String(p.column)}) : t('line', {l: String(p.line)})) : '') +
    (p.segment ? t('sample', {s: segLabel(p.segment)}) : '') + plainError(p.message);
}

function field(name, label, input, hint) {
  return h('div', {class: 'field', 'data-field': name},
    h('label', {}, label, hint ? h('small', {}, ' ' + hint) : null, input),
    h('div', {class: 'err', id: 'err-' + name}));
}

async function showEditor(id) {
  await loadSegments();
  let offer = {id: '', name: '', status: 'draft', segments: [], templates: {vi: '', en: ''}, details: {}, validity: {}, priority: 10, cap_days: 7, version: 0};
  if (id) offer = (await api('GET', '/offers/' + encodeURIComponent(id))).offer;
  const isNew = !id;
  let version = offer.version;
  const v = offer.validity || {};
  const input = (name, attrs) => h('input', Object.assign({id: 'f-' + name, name}, attrs));
  const area = (name, value, rows) => h('textarea', {id: 'f-' + name, name, rows: rows || 4, class: 'code', spellcheck: 'false'}, value || '');
  const segBoxes = h('div', {class: 'chips', id: 'f-segments'}, segmentNames.map((s) =>
    h('label', {}, h('input', {type: 'checkbox', value: s, checked: (offer.segments || []).includes(s)}), segLabel(s))));
  const btnKinds = offer.buttons && offer.buttons.length ? offer.buttons : ['accept', 'more', 'decline'];
  const btnBoxes = h('div', {class: 'chips', id: 'f-buttons'}, ['accept', 'more', 'decline'].map((b) =>
    h('label', {}, h('input', {type: 'checkbox', value: b, checked: btnKinds.includes(b)}), t('btn_' + b))));
  // The template box the admin was in last: where "insert a field" writes.
  let lastArea = null;
  const insertField = h('select', {id: 'insert-field', 'aria-label': t('insertField'), title: t('insertHint'), onchange: (ev) => {
    const v = ev.target.value;
    ev.target.value = '';
    if (!v) return;
    const a = lastArea || document.getElementById('f-templates.vi');
    const at = a.selectionStart ?? a.value.length;
    a.value = a.value.slice(0, at) + v + a.value.slice(a.selectionEnd ?? at);
    a.focus();
    a.selectionStart = a.selectionEnd = at + v.length;
    a.dispatchEvent(new Event('input', {bubbles: true}));
  }}, h('option', {value: ''}, t('insertField')), TEMPLATE_FIELDS.map((f) => h('option', {value: f[0]}, f[0] + ' — ' + (LANG === 'en' ? f[2] : f[1]))));

  const eligArea = area('eligibility', offer.eligibility, 2);
  const eligBuilder = conditionBuilder(eligArea, 'elig-builder');
  const form = h('form', {id: 'offer-form', class: 'card', autocomplete: 'off'},
    h('div', {class: 'grid2'},
      field('id', t('fId'), input('id', {type: 'text', value: offer.id, readonly: !isNew, required: true, pattern: '[a-z0-9_-]+'}), t('fIdHint')),
      field('name', t('fName'), input('name', {type: 'text', value: offer.name}))),
    h('div', {class: 'grid2'},
      field('status', t('fStatus'), h('select', {id: 'f-status', name: 'status'},
        ['draft', 'active', 'paused'].map((s) => h('option', {value: s, selected: offer.status === s}, t('st_' + s))))),
      field('priority', t('fPriority'), input('priority', {type: 'number', value: offer.priority}), t('fPriorityHint'))),
    field('segments', t('fSegments'), segBoxes, t('fSegmentsHint')),
    field('eligibility', t('fEligibility'), eligArea, t('fEligibilityHint')),
    eligBuilder,
    h('div', {class: 'grid2'},
      field('validity.from', t('fFrom'), input('validity.from', {type: 'datetime-local', value: toLocalInput(v.from)})),
      field('validity.until', t('fUntil'), input('validity.until', {type: 'datetime-local', value: toLocalInput(v.until)}))),
    h('div', {class: 'grid2'},
      field('validity.last_days_of_month', t('fLastDays'), input('validity.last_days_of_month', {type: 'number', min: 0, max: 28, value: v.last_days_of_month || 0}), t('fLastDaysHint')),
      field('validity.birthday_month', t('fBirthday'), h('div', {class: 'chips'}, h('label', {}, input('validity.birthday_month', {type: 'checkbox', checked: v.birthday_month}), t('yes'))))),
    h('div', {class: 'grid2'},
      field('cap_days', t('fCap'), input('cap_days', {type: 'number', min: 0, value: offer.cap_days}), t('fCapHint')),
      field('max_shows', t('fMaxShows'), input('max_shows', {type: 'number', min: 0, value: offer.max_shows || 0}), t('fMaxShowsHint'))),
    h('div', {class: 'grid2'},
      field('code', t('fCode'), input('code', {type: 'text', value: offer.code || ''}), '{{.Code}}'),
      field('buttons', t('fButtons'), btnBoxes)),
    h('div', {class: 'bar'}, insertField, h('span', {class: 'muted'}, t('helpers'))),
    field('templates.vi', t('fTemplate', {l: 'vi'}), area('templates.vi', (offer.templates || {}).vi, 4)),
    field('templates.en', t('fTemplate', {l: 'en'}), area('templates.en', (offer.templates || {}).en, 4)),
    field('details.vi', t('fDetails', {l: 'vi'}), area('details.vi', (offer.details || {}).vi, 3)),
    field('details.en', t('fDetails', {l: 'en'}), area('details.en', (offer.details || {}).en, 3)),
    h('div', {class: 'err', id: 'err-offer'}),
    h('div', {id: 'conflict'}),
    h('div', {class: 'bar'},
      h('button', {type: 'submit', class: 'primary', id: 'save'}, isNew ? t('create') : t('save')),
      h('span', {class: 'muted', id: 'version'}, isNew ? t('newOfferNote') : t('editing', {v: String(version)})),
      !isNew ? h('a', {href: '#/offer/' + encodeURIComponent(offer.id) + '/history'}, t('history')) : null));
  for (const a of form.querySelectorAll('textarea[name^="templates."], textarea[name^="details."]')) {
    a.addEventListener('focus', () => { lastArea = a; });
  }

  // The preview target: a sample of a target segment or a real customer.
  const target = h('select', {id: 'preview-target'});
  const search = h('input', {type: 'search', id: 'customer-q', placeholder: t('findCustomer'), 'aria-label': t('findCustomer')});
  const hits = h('ul', {class: 'hits', id: 'customer-hits'});
  let customer = null;
  const refreshTargets = () => {
    const segs = collect().segments;
    const list = segs.length ? segs : segmentNames;
    const keep = target.value;
    put(target, ...list.map((s) => h('option', {value: 'segment:' + s}, t('sampleOf', {s: segLabel(s)}))),
      customer ? h('option', {value: 'customer:' + customer.id}, (customer.name || t('noName')) + ' (#' + customer.id + ', ' + segLabel(customer.segment) + ')') : null);
    if ([...target.options].some((o) => o.value === keep)) target.value = keep;
  };
  let searchTimer;
  search.addEventListener('input', () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(async () => {
      const q = search.value.trim();
      if (!q) { put(hits); return; }
      try {
        const res = await api('GET', '/customers?q=' + encodeURIComponent(q));
        put(hits, ...res.customers.map((c) => h('li', {}, h('button', {type: 'button', onclick: () => {
          customer = c; put(hits); search.value = ''; refreshTargets();
          target.value = 'customer:' + c.id; schedulePreview();
        }}, `${c.name || t('noName')} · #${c.id} · ${segLabel(c.segment)}${c.phone ? ' · ' + c.phone : ''}`))));
        if (!res.customers.length) put(hits, h('li', {class: 'muted'}, t('noCustomer')));
      } catch (e) { put(hits, h('li', {class: 'err'}, e.message)); }
    }, 250);
  });
  const out = h('div', {id: 'preview-out'});
  const preview = h('aside', {class: 'card preview', id: 'preview'},
    h('h2', {}, t('preview')),
    h('label', {}, t('for'), target), search, hits, out);

  put(view,
    h('div', {class: 'bar'}, h('h1', {class: 'grow'}, isNew ? t('newOffer') : offer.name), h('a', {href: '#/offers'}, t('back'))),
    h('div', {class: 'editor'}, form, preview));
  refreshTargets();

  function val(name) { return document.getElementById('f-' + name).value; }
  // trimmed is a text field without surrounding spaces, or as stored when
  // untouched (so opening and saving an offer changes nothing).
  function trimmed(name, stored) { const s = val(name); return s === (stored || '') ? s : s.trim(); }
  function num(name) { const n = val(name); return n === '' ? 0 : Number(n); }
  function collect() {
    const checked = (id) => [...document.querySelectorAll('#' + id + ' input:checked')].map((i) => i.value);
    const o = {id: val('id').trim(), name: val('name'), status: val('status'), segments: checked('f-segments'),
      eligibility: trimmed('eligibility', offer.eligibility), priority: num('priority'), cap_days: num('cap_days'), max_shows: num('max_shows'),
      code: trimmed('code', offer.code), templates: {}, details: {}, validity: {}};
    let buttons = checked('f-buttons');
    if (buttons.length !== 3) o.buttons = buttons;
    for (const l of ['vi', 'en']) {
      if (val('templates.' + l).trim()) o.templates[l] = val('templates.' + l);
      if (val('details.' + l).trim()) o.details[l] = val('details.' + l);
    }
    // A date the admin did not touch is sent back as stored: the input
    // shows minutes in the browser's zone, and converting it back would
    // drop the seconds and the zone, a change nobody made.
    const date = (name, stored) => {
      const s = val('validity.' + name);
      if (!s) return undefined;
      if (stored && s === toLocalInput(stored)) return stored;
      return new Date(s).toISOString();
    };
    const from = date('from', v.from), until = date('until', v.until);
    if (from) o.validity.from = from;
    if (until) o.validity.until = until;
    if (num('validity.last_days_of_month')) o.validity.last_days_of_month = num('validity.last_days_of_month');
    if (document.getElementById('f-validity.birthday_month').checked) o.validity.birthday_month = true;
    return o;
  }

  function showProblems(problems) {
    for (const f of FIELDS.concat(['offer'])) {
      const e = document.getElementById('err-' + f);
      if (e) e.textContent = '';
      const inp = document.getElementById('f-' + f);
      if (inp) inp.classList.remove('invalid');
    }
    for (const p of problems || []) {
      let f = p.field;
      if (!document.getElementById('err-' + f)) f = 'offer';
      const e = document.getElementById('err-' + f);
      const text = (f === 'offer' ? p.field + ': ' : '') + problemText(p);
      e.textContent = e.textContent ? e.textContent + '\n' + text : text;
      const inp = document.getElementById('f-' + f);
      if (inp) inp.classList.add('invalid');
    }
  }

  let previewTimer, previewSeq = 0;
  function schedulePreview() {
    clearTimeout(previewTimer);
    previewTimer = setTimeout(runPreview, 250);
  }
  async function runPreview() {
    const seq = ++previewSeq;
    const body = {offer: collect()};
    const [kind, ref] = (target.value || '').split(/:(.*)/);
    if (kind === 'customer') body.customer_id = Number(ref); else if (ref) body.segment = ref;
    try {
      const p = await api('POST', '/offers/preview', body);
      if (seq !== previewSeq) return;
      showProblems(p.problems);
      put(out, 
        h('p', {class: 'muted'}, (p.customer.sample ? t('sampleCustomer') : t('customer')) + (p.customer.name || '') +
          t('segmentOf', {s: segLabel(p.customer.segment)}) + (p.eligible ? t('shownNow') : t('notShownNow'))),
        ...p.texts.map((x) => h('div', {class: 'lang', 'data-lang': x.lang},
          h('div', {class: 'tag'}, x.lang + (x.fallback ? t('noTemplate', {l: x.lang, f: x.fallback}) : '')),
          x.error ? h('div', {class: 'err'}, x.error.field + ': ' + problemText(x.error)) : null,
          x.text ? h('div', {class: 'bubble', id: 'preview-' + x.lang}, x.text) : null,
          x.details ? h('div', {class: 'details'}, 'ℹ️ ' + x.details) : null,
          h('div', {class: 'btns'}, x.buttons.map((b) => h('span', {}, b.label))))));
      out.dataset.state = p.problems.length ? 'invalid' : 'ok';
    } catch (e) {
      if (seq !== previewSeq) return;
      put(out, h('p', {class: 'alert'}, e.message));
    }
  }

  form.addEventListener('input', (ev) => {
    if (ev.target.closest('#f-segments')) refreshTargets();
    schedulePreview();
  });
  form.addEventListener('change', schedulePreview);
  target.addEventListener('change', schedulePreview);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const save = document.getElementById('save');
    save.disabled = true;
    document.getElementById('conflict').replaceChildren();
    const o = collect();
    try {
      let res;
      if (isNew) res = await api('POST', '/offers', o);
      else res = await api('PUT', '/offers/' + encodeURIComponent(offer.id), Object.assign(o, {version}));
      version = res.offer.version;
      document.getElementById('version').textContent = t('saved', {v: String(version)});
      showProblems([]);
      toast(t('savedToast', {id: res.offer.id, v: String(res.offer.version)}));
      if (isNew) location.hash = '#/offer/' + encodeURIComponent(res.offer.id);
    } catch (e) {
      if (e.status === 409) {
        document.getElementById('conflict').replaceChildren(h('div', {class: 'alert'}, e.message + ' ',
          h('button', {type: 'button', onclick: route}, t('reload'))));
      } else if (e.detail && e.detail.problems) {
        showProblems(e.detail.problems);
        toast(t('notSaved', {n: e.detail.problems.length}));
      } else {
        showProblems([{field: 'offer', message: e.message}]);
      }
    } finally {
      save.disabled = false;
    }
  });
  runPreview();
}

// ---- history ----

async function showHistory(id) {
  const {versions} = await api('GET', '/offers/' + encodeURIComponent(id) + '/versions');
  const current = versions.length ? versions[0].version : 0;
  const diffBox = h('div', {id: 'diff'});
  const showDiff = async (from, to) => {
    try {
      const d = await api('GET', `/offers/${encodeURIComponent(id)}/diff?from=${from}&to=${to}`);
      put(diffBox, h('h2', {}, t('versionDiff', {a: String(from), b: String(to)})), h('div', {class: 'diff'},
        d.lines.map((l) => h('div', {class: l.op === '+' ? 'add' : l.op === '-' ? 'del' : ''}, l.op + ' ' + l.text))));
      diffBox.scrollIntoView({block: 'nearest'});
    } catch (e) { put(diffBox, h('p', {class: 'alert'}, e.message)); }
  };
  const rollback = async (ver) => {
    try {
      const res = await api('POST', `/offers/${encodeURIComponent(id)}/rollback`, {version: ver});
      toast(t('rolledBack', {v: String(ver), now: String(res.offer.version)}));
      route();
    } catch (e) { toast(e.message); }
  };
  const cols = ['colVersion', 'colWhen', 'colWho', 'colFrom', 'colWhat', ''];
  const td = (i, ...kids) => h('td', {'data-label': cols[i] ? t(cols[i]) : null}, ...kids);
  put(view,
    h('div', {class: 'bar'}, h('h1', {class: 'grow'}, t('historyOf', {id})),
      h('a', {href: '#/offer/' + encodeURIComponent(id)}, t('edit')), h('a', {href: '#/offers'}, t('back'))),
    h('div', {class: 'scroll card'}, h('table', {id: 'versions', class: 'cards'},
      h('thead', {}, h('tr', {}, cols.map((c) => h('th', {}, c ? t(c) : '')))),
      h('tbody', {}, versions.map((v) => h('tr', {'data-version': v.version},
        td(0, 'v' + v.version, v.version === current ? h('div', {class: 'muted'}, t('current')) : null),
        td(1, fmtTime(v.updated_at)),
        td(2, v.updated_by || ''),
        td(3, v.origin || ''),
        td(4, v.change, h('div', {}, h('span', {class: 'badge ' + v.status}, t('st_' + v.status)))),
        td(5,
          v.version > 1 ? h('button', {class: 'diff-btn', onclick: () => showDiff(v.version - 1, v.version)}, t('diff')) : null, ' ',
          v.version !== current ? confirmButton({class: 'rollback-btn'}, t('rollbackTo', {v: String(v.version)}),
            t('confirmRollback', {v: String(v.version)}), t('confirmRollback', {v: String(v.version)}), () => rollback(v.version)) : null)))))),
    diffBox);
}

// ---- segments ----

async function showSegments() {
  const {segments, history} = await loadSegments();
  const cols = ['', 'colSegment', 'colRule', 'colCustomers', ''];
  const td = (i, attrs, ...kids) => h('td', Object.assign({'data-label': cols[i] ? t(cols[i]) : null}, attrs), ...kids);
  const rows = segments.map((s) => {
    const editor = h('div', {class: 'seg-editor', hidden: true});
    const rule = h('textarea', {class: 'code', rows: 2, spellcheck: 'false', 'aria-label': t('rawRule')}, s.rule);
    const result = h('div', {class: 'seg-result'});
    const preview = async () => {
      try {
        const p = await api('POST', '/segments/' + encodeURIComponent(s.name) + '/preview', {rule: rule.value});
        const moves = Object.entries(p.moves).sort((a, b) => b[1] - a[1]);
        put(result, h('p', {class: 'note'},
          t('wouldMove', {n: p.in, out: p.out, cur: p.current, after: p.after, total: p.customers})),
          moves.length ? h('ul', {class: 'moves'}, moves.map(([k, n]) => h('li', {}, `${segLabel(k)}: ${n}`))) : null);
      } catch (e) { put(result, ruleError(e.message)); }
    };
    const save = async () => {
      try {
        const res = await api('PUT', '/segments/' + encodeURIComponent(s.name), {rule: rule.value, expected_rule: s.rule});
        toast(t('savedRule', {s: segLabel(s.name), n: res.moved}));
        route();
      } catch (e) { put(result, ruleError(e.message)); }
    };
    editor.append(conditionBuilder(rule, 'builder-' + s.name), h('label', {}, t('rawRule'), rule), h('div', {class: 'bar'},
      h('button', {type: 'button', class: 'seg-preview', onclick: preview}, t('validate')),
      h('button', {type: 'button', class: 'primary seg-save', onclick: save}, t('save')),
      h('button', {type: 'button', onclick: () => { editor.hidden = true; }}, t('cancel'))), result);
    return h('tr', {'data-segment': s.name},
      td(0, {class: 'num'}, s.position),
      td(1, {class: 'title-cell'}, h('strong', {}, segLabel(s.name)), h('div', {class: 'muted'}, s.name),
        h('div', {class: 'muted hide-sm'}, s.description || '')),
      td(2, {class: 'rule-cell'}, h('code', {}, s.rule), editor),
      td(3, {class: 'num seg-count'}, s.count),
      td(4, {class: 'actions'}, h('button', {type: 'button', class: 'seg-edit', onclick: () => { editor.hidden = false; rule.focus(); }}, t('edit'))));
  });
  put(view,
    h('h1', {}, t('segments')),
    h('p', {class: 'muted'}, t('segmentsIntro')),
    h('div', {class: 'scroll card'}, h('table', {id: 'segments', class: 'cards'},
      h('thead', {}, h('tr', {}, ['#', t('colSegment'), t('colRule'), t('colCustomers'), ''].map((c) => h('th', {}, c)))),
      h('tbody', {}, rows))),
    h('h2', {}, t('ruleChanges')),
    history.length ? h('div', {class: 'scroll card'}, h('table', {},
      h('thead', {}, h('tr', {}, ['colWhen', 'colWho', 'colSegment', 'colFrom', 'colTo', 'colMoved'].map((c) => h('th', {}, t(c))))),
      h('tbody', {}, history.map((c) => h('tr', {},
        h('td', {}, fmtTime(c.time)), h('td', {}, c.by + ' (' + c.origin + ')'), h('td', {}, segLabel(c.segment)),
        h('td', {}, h('code', {}, c.from)), h('td', {}, h('code', {}, c.to)), h('td', {class: 'num'}, c.moved))))))
      : h('p', {class: 'muted'}, t('noRuleChange')));
}

// ---- the bot's phrases ----

async function showMessages() {
  const st = await api('GET', '/messages');
  const version = st.version;
  const self = h('input', {type: 'text', id: 'addr-self', list: 'addr-self-list', value: st.edit.address.self || 'mình'});
  const customer = h('input', {type: 'text', id: 'addr-customer', list: 'addr-customer-list', value: st.edit.address.customer || 'bạn'});
  const filter = h('input', {type: 'search', id: 'msg-filter', placeholder: t('filter'), 'aria-label': t('filter')});
  const areas = {};
  const saids = {};
  const cards = st.phrases.map((p) => {
    areas[p.id] = {};
    saids[p.id] = {};
    const langs = ['vi', 'en'].map((l) => {
      const a = h('textarea', {id: `msg-${p.id}-${l}`, rows: 2, 'data-lang': l, 'aria-label': p.id + ' (' + l + ')'},
        (p.own && p.own[l]) || p.builtin[l]);
      areas[p.id][l] = a;
      saids[p.id][l] = h('div', {class: 'bubble said', id: `said-${p.id}-${l}`}, p.said[l]);
      return h('div', {class: 'lang', 'data-lang': l}, h('div', {class: 'tag'}, l), a,
        h('div', {class: 'muted small'}, t('botSays')), saids[p.id][l]);
    });
    return h('div', {class: 'card phrase', 'data-phrase': p.id},
      h('h2', {class: 'phrase-id'}, h('code', {}, p.id), p.own ? h('span', {class: 'badge active'}, t('edited')) : null), langs);
  });
  const err = h('div', {id: 'msg-error'});
  const collect = () => {
    const phrases = {};
    for (const [id, ls] of Object.entries(areas)) phrases[id] = {vi: ls.vi.value, en: ls.en.value};
    return {address: {self: self.value.trim(), customer: customer.value.trim()}, phrases};
  };
  let timer, seq = 0;
  const preview = () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const my = ++seq;
      try {
        const res = await api('POST', '/messages/preview', collect());
        if (my !== seq) return;
        put(err);
        for (const p of res.phrases) for (const l of ['vi', 'en']) saids[p.id][l].textContent = p.said[l];
      } catch (e) { if (my === seq) put(err, h('p', {class: 'alert'}, e.message)); }
    }, 250);
  };
  const save = h('button', {type: 'button', class: 'primary', id: 'msg-save', onclick: async () => {
    try {
      const res = await api('PUT', '/messages', Object.assign(collect(), {version}));
      toast(t('msgSaved', {v: String(res.version.version)}));
      route();
    } catch (e) { put(err, h('p', {class: 'alert'}, e.message)); }
  }}, t('save'));
  const history = st.history.length ? h('div', {class: 'scroll card'}, h('table', {id: 'msg-versions', class: 'cards'},
    h('tbody', {}, st.history.map((v, i) => h('tr', {'data-version': v.version},
      h('td', {'data-label': t('colVersion')}, 'v' + v.version, i === 0 ? h('div', {class: 'muted'}, t('current')) : null),
      h('td', {'data-label': t('colWhen')}, fmtTime(v.at)),
      h('td', {'data-label': t('colWho')}, v.by + (v.origin ? ' (' + v.origin + ')' : '')),
      h('td', {class: 'actions'}, i > 0 ? confirmButton({class: 'msg-restore'}, t('restore', {v: String(v.version)}),
        t('confirmRestore', {v: String(v.version)}), t('confirmRestore', {v: String(v.version)}), async () => {
          try {
            const res = await api('POST', '/messages/rollback', {to: v.version, version});
            toast(t('msgSaved', {v: String(res.version.version)}));
            route();
          } catch (e) { toast(e.message); }
        }) : null))))))
    : h('p', {class: 'muted'}, t('noMsgHistory'));
  filter.addEventListener('input', () => {
    const q = filter.value.trim().toLowerCase();
    for (const c of cards) c.hidden = !!q && !c.textContent.toLowerCase().includes(q) &&
      ![...c.querySelectorAll('textarea')].some((a) => a.value.toLowerCase().includes(q));
  });
  const box = h('div', {id: 'messages-view'},
    h('div', {class: 'bar'}, h('h1', {class: 'grow'}, t('messages')),
      h('span', {class: 'muted', id: 'msg-version'}, version ? t('msgVersion', {v: String(version)}) : t('msgFile')), save),
    h('p', {class: 'muted'}, t('messagesIntro')),
    h('div', {class: 'card grid2', id: 'address'},
      h('label', {}, t('addrSelf'), self), h('label', {}, t('addrCustomer'), customer),
      h('datalist', {id: 'addr-self-list'}, ['mình', 'em', 'shop', 'tôi'].map((v) => h('option', {value: v}))),
      h('datalist', {id: 'addr-customer-list'}, ['bạn', 'anh/chị', 'quý khách', 'chị', 'anh'].map((v) => h('option', {value: v})))),
    err, filter, h('div', {id: 'phrases'}, cards),
    h('h2', {}, t('msgHistory')), history);
  // On this view's own element: it goes away with the view.
  box.addEventListener('input', (ev) => { if (ev.target !== filter) preview(); });
  put(view, box);
}

// ---- the shop's FAQ (knowledge entries) ----
// Each entry: an id, the questions customers write (one a line), the answer
// in Vietnamese and English, a topic the bot names when it asks "do you
// mean …?". Edits stay on the page until saved as a new version; the next
// message uses them.

Object.assign(MSG.vi, {
  faq: 'Hỏi đáp', faqIntro: 'Những câu khách hay hỏi (phí giao hàng, COD, bảo hành, giờ mở cửa…) và câu trả lời của shop. Bot học từ các câu hỏi mẫu; viết chúng như khách hay nhắn, có dấu, không dấu, viết tắt, tiếng Anh. Lưu xong, tin nhắn tiếp theo dùng ngay.',
  faqAdd: 'Thêm câu hỏi đáp', faqVersion: 'phiên bản {v}', faqFile: 'theo tệp knowledge.yaml', faqUnsaved: 'chưa lưu',
  faqId: 'Mã', faqIdHint: 'a-z 0-9 _ -', faqQuestions: 'Câu hỏi của khách', faqQuestionsHint: 'mỗi dòng một câu',
  faqAnswer: 'Câu trả lời ({l})', faqTopic: 'Chủ đề ({l})', faqTopicHint: 'khi bot hỏi lại “Bạn muốn hỏi về …?”',
  faqDelete: 'Xoá', faqConfirmDelete: 'Xoá thật?', faqDeleteHint: 'Bấm lần nữa để xoá mục này (chỉ mất khi bạn bấm Lưu).',
  faqTry: 'Thử một câu hỏi', faqTryLabel: 'Câu khách nhắn', faqTryButton: 'Thử', faqTryHint: 'Xem bot sẽ trả lời gì với các mục đang sửa (chưa cần lưu).',
  faqPickFAQ: 'Bot trả lời bằng mục “{id}” (chắc {pct}%).',
  faqPickClarify: 'Bot chưa chắc ({pct}%): sẽ hỏi lại khách có phải hỏi về “{id}” không.',
  faqPickUnknown: 'Bot chưa hiểu câu này ({pct}%): sẽ hỏi lại hoặc mời nhân viên. Thêm câu này vào câu hỏi của một mục.',
  faqPickIntent: 'Bot hiểu câu này là “{intent}”, không phải một câu hỏi đáp (chắc {pct}%).',
  faqFixFirst: 'Sửa các vấn đề bên dưới trước khi thử.',
  faqSaved: 'Đã lưu hỏi đáp, phiên bản {v}. Tin nhắn tiếp theo dùng ngay.', faqNotSaved: {other: 'Chưa lưu: {n} vấn đề, hiện cạnh các ô.'},
  faqHistory: 'Các phiên bản', faqNoHistory: 'Chưa lưu phiên bản nào ở đây: bot dùng tệp knowledge.yaml.',
  faqEntries: {other: '{n} mục'}, faqFilter: 'Tìm câu hỏi đáp…', faqRolledBack: 'khôi phục v{v}',
  kp_id_missing: 'cần có mã (chữ thường không dấu, số, - và _).', kp_id_format: 'mã chỉ gồm chữ thường không dấu, số, - và _ (tối đa 41 ký tự).',
  kp_id_duplicate: 'mục số {n} đã dùng mã này.', kp_questions_missing: 'cần ít nhất một câu hỏi, viết như khách hay nhắn.',
  kp_too_many_questions: 'tối đa {max} câu hỏi.', kp_question_long: 'tối đa {max} ký tự.', kp_question_no_words: 'câu hỏi không có chữ nào.',
  kp_question_duplicate: '“{q}” đã là câu hỏi của mục “{entry}”.', kp_question_intent_example: '“{q}” là câu mẫu của ý định “{intent}”.',
  kp_question_claimed: 'bot hiểu “{q}” là “{intent}” (chắc {pct}%): khách nhắn câu này sẽ không được lo đúng việc họ cần.',
  kp_answer_missing: 'cần câu trả lời bằng {lang}.', kp_answer_long: 'tối đa {max} ký tự.', kp_language: 'chỉ dùng vi hoặc en.',
  kp_too_many_entries: 'tối đa {max} mục.', kp_empty_entry: 'mục trống.',
  lang_vi: 'tiếng Việt', lang_en: 'tiếng Anh',
  in_buy: 'mua hàng', in_complaint: 'khiếu nại', in_opt_out: 'ngừng nhận tin', in_opt_in: 'nhận lại tin', in_cancel_order: 'huỷ đơn',
  in_change_order: 'đổi đơn', in_order_status: 'hỏi đơn hàng', in_handoff: 'gặp nhân viên', in_refuse: 'từ chối', in_price: 'hỏi giá',
  in_product: 'hỏi sản phẩm', in_availability: 'hỏi còn hàng', in_greeting: 'chào', in_thanks: 'cảm ơn', in_promotion: 'hỏi khuyến mãi',
  in_promo: 'hỏi khuyến mãi', in_smalltalk: 'nói chuyện', in_contact: 'để lại liên hệ', in_address: 'địa chỉ giao hàng',
  in_price_objection: 'chê đắt', in_recommend: 'gợi ý mua kèm',
});
Object.assign(MSG.en, {
  faq: 'FAQ', faqIntro: 'The questions customers ask all day (shipping fees, COD, warranty, opening hours…) and the shop\'s answers. The bot learns from the example questions: write them as customers do, with and without diacritics, in shorthand, in English. Once saved, the next message uses them.',
  faqAdd: 'Add an entry', faqVersion: 'version {v}', faqFile: 'from the knowledge.yaml file', faqUnsaved: 'not saved',
  faqId: 'Id', faqIdHint: 'a-z 0-9 _ -', faqQuestions: 'Customer questions', faqQuestionsHint: 'one a line',
  faqAnswer: 'Answer ({l})', faqTopic: 'Topic ({l})', faqTopicHint: 'when the bot asks "Do you mean …?"',
  faqDelete: 'Delete', faqConfirmDelete: 'Really delete?', faqDeleteHint: 'Click again to delete this entry (gone once you save).',
  faqTry: 'Try a question', faqTryLabel: 'What the customer writes', faqTryButton: 'Try', faqTryHint: 'See what the bot would answer with the entries as edited (no need to save).',
  faqPickFAQ: 'The bot answers with the entry “{id}” ({pct}% sure).',
  faqPickClarify: 'The bot is unsure ({pct}%): it asks whether the customer means “{id}”.',
  faqPickUnknown: 'The bot does not understand this ({pct}%): it asks again or offers a person. Add it to an entry\'s questions.',
  faqPickIntent: 'The bot reads this as “{intent}”, not an FAQ question ({pct}% sure).',
  faqFixFirst: 'Fix the problems below before trying.',
  faqSaved: 'Saved the FAQ, version {v}. The next message uses it.', faqNotSaved: {one: 'Not saved: {n} problem, shown by the fields.', other: 'Not saved: {n} problems, shown by the fields.'},
  faqHistory: 'Versions', faqNoHistory: 'No version saved here yet: the bot uses the knowledge.yaml file.',
  faqEntries: {one: '{n} entry', other: '{n} entries'}, faqFilter: 'Find an entry…', faqRolledBack: 'restores v{v}',
  kp_id_missing: 'an id is required (lower-case letters, digits, - and _).', kp_id_format: 'lower-case letters, digits, - and _ only (at most 41).',
  kp_id_duplicate: 'entry #{n} has this id already.', kp_questions_missing: 'at least one question, as customers write it.',
  kp_too_many_questions: 'at most {max} questions.', kp_question_long: 'at most {max} characters.', kp_question_no_words: 'the question has no words.',
  kp_question_duplicate: '“{q}” is a question of the entry “{entry}” already.', kp_question_intent_example: '“{q}” is an example of the intent “{intent}”.',
  kp_question_claimed: 'the bot reads “{q}” as “{intent}” ({pct}% sure): customers writing it would not get what they need.',
  kp_answer_missing: 'an answer in {lang} is required.', kp_answer_long: 'at most {max} characters.', kp_language: 'vi or en only.',
  kp_too_many_entries: 'at most {max} entries.', kp_empty_entry: 'the entry is empty.',
  lang_vi: 'Vietnamese', lang_en: 'English',
  in_buy: 'buying', in_complaint: 'a complaint', in_opt_out: 'opting out', in_opt_in: 'opting in', in_cancel_order: 'cancelling an order',
  in_change_order: 'changing an order', in_order_status: 'order status', in_handoff: 'asking for a person', in_refuse: 'a refusal', in_price: 'a price question',
  in_product: 'a product question', in_availability: 'stock', in_greeting: 'a greeting', in_thanks: 'thanks', in_promotion: 'promotions',
  in_promo: 'promotions', in_smalltalk: 'small talk', in_contact: 'contact details', in_address: 'a delivery address',
  in_price_objection: 'too expensive', in_recommend: 'what goes with it',
});

function intentName(name) { return MSG[LANG]['in_' + name] ? t('in_' + name) : name; }

// kpText is a problem of the FAQ (bot.KnowledgeProblem) in the page's
// language: "line 3: reason".
function kpText(p) {
  const params = Object.assign({}, p.params || {});
  if (params.intent) params.intent = intentName(params.intent);
  if (params.lang) params.lang = t('lang_' + params.lang);
  const known = MSG[LANG]['kp_' + p.code] !== undefined;
  return (p.line ? t('line', {l: String(p.line)}) : '') + (known ? t('kp_' + p.code, params) : p.message);
}

let faqSeq = 0;

async function showFAQ() {
  const st = await api('GET', '/knowledge');
  const version = st.version;
  // entries are the page's copy; each keeps the key of its card.
  const entries = st.entries.map((e) => ({key: ++faqSeq, id: e.id, questions: (e.questions || []).join('\n'),
    vi: (e.answer || {}).vi || '', en: (e.answer || {}).en || '', tvi: (e.topic || {}).vi || '', ten: (e.topic || {}).en || ''}));
  const payload = () => entries.map((e) => {
    const out = {id: e.id.trim(), questions: e.questions.split('\n').map((q) => q.trim()).filter(Boolean), answer: {vi: e.vi, en: e.en}};
    if (e.tvi.trim() || e.ten.trim()) out.topic = {vi: e.tvi, en: e.ten};
    return out;
  });
  const err = h('div', {id: 'faq-error', role: 'alert'});
  const unsaved = h('span', {class: 'badge', id: 'faq-unsaved', hidden: true}, t('faqUnsaved'));
  const count = h('span', {class: 'muted', id: 'faq-count'});
  const list = h('div', {id: 'faq-entries'});
  const errs = {};
  const fieldBox = (e, name, label, input, hint) => {
    const id = `faq-err-${e.key}-${name.replace('.', '-')}`;
    input.setAttribute('aria-describedby', id);
    const box = h('div', {class: 'err', id});
    errs[e.key][name] = {box, input};
    return h('div', {class: 'field', 'data-field': name}, h('label', {}, label, hint ? h('small', {}, ' ' + hint) : null, input), box);
  };
  const card = (e) => {
    errs[e.key] = {};
    const bind = (el, prop) => { el.addEventListener('input', () => { e[prop] = el.value; changed(); }); return el; };
    const idIn = bind(h('input', {type: 'text', id: `faq-${e.key}-id`, value: e.id, maxlength: 41, autocomplete: 'off', spellcheck: 'false'}), 'id');
    const title = h('code', {class: 'faq-title'}, e.id || '…');
    idIn.addEventListener('input', () => { title.textContent = idIn.value || '…'; });
    const del = confirmButton({class: 'danger faq-delete', 'aria-label': t('faqDelete') + ' ' + (e.id || '')}, t('faqDelete'), t('faqConfirmDelete'), t('faqDeleteHint'), () => {
      entries.splice(entries.indexOf(e), 1);
      c.remove();
      changed();
    });
    const area = (prop, rows, id) => bind(h('textarea', {id, rows}, e[prop]), prop);
    const c = h('div', {class: 'card faq-entry', 'data-key': e.key},
      h('div', {class: 'bar'}, h('h2', {class: 'grow'}, title), del),
      h('div', {class: 'err', id: `faq-err-${e.key}-entry`}),
      fieldBox(e, 'id', t('faqId'), idIn, t('faqIdHint')),
      fieldBox(e, 'questions', t('faqQuestions'), area('questions', Math.min(8, Math.max(3, e.questions.split('\n').length)), `faq-${e.key}-questions`), t('faqQuestionsHint')),
      h('div', {class: 'grid2'},
        fieldBox(e, 'answer.vi', t('faqAnswer', {l: 'vi'}), area('vi', 3, `faq-${e.key}-answer-vi`)),
        fieldBox(e, 'answer.en', t('faqAnswer', {l: 'en'}), area('en', 3, `faq-${e.key}-answer-en`))),
      h('div', {class: 'grid2'},
        fieldBox(e, 'topic.vi', t('faqTopic', {l: 'vi'}), bind(h('input', {type: 'text', id: `faq-${e.key}-topic-vi`, value: e.tvi}), 'tvi'), t('faqTopicHint')),
        fieldBox(e, 'topic.en', t('faqTopic', {l: 'en'}), bind(h('input', {type: 'text', id: `faq-${e.key}-topic-en`, value: e.ten}), 'ten'))));
    errs[e.key].entry = {box: c.querySelector(`#faq-err-${e.key}-entry`)};
    return c;
  };
  const showProblems = (problems) => {
    for (const fs of Object.values(errs)) for (const f of Object.values(fs)) {
      f.box.textContent = '';
      if (f.input) { f.input.classList.remove('invalid'); f.input.removeAttribute('aria-invalid'); }
    }
    for (const p of problems) {
      const e = entries[p.entry];
      const f = e && errs[e.key] && (errs[e.key][p.field] || errs[e.key].entry);
      if (!f) { put(err, h('p', {class: 'alert'}, kpText(p))); continue; }
      f.box.textContent += (f.box.textContent ? '\n' : '') + kpText(p);
      if (f.input) { f.input.classList.add('invalid'); f.input.setAttribute('aria-invalid', 'true'); }
    }
  };
  let timer, seq = 0;
  function changed() {
    unsaved.hidden = false;
    count.textContent = t('faqEntries', {n: entries.length});
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const my = ++seq;
      try {
        const res = await api('POST', '/knowledge/validate', {entries: payload()});
        if (my !== seq) return;
        put(err);
        showProblems(res.problems);
      } catch (e) { if (my === seq) put(err, h('p', {class: 'alert'}, e.message)); }
    }, 300);
  }
  for (const e of entries) list.append(card(e));
  count.textContent = t('faqEntries', {n: entries.length});

  const add = h('button', {type: 'button', id: 'faq-add', onclick: () => {
    const e = {key: ++faqSeq, id: '', questions: '', vi: '', en: '', tvi: '', ten: ''};
    entries.push(e);
    const c = card(e);
    list.append(c);
    c.querySelector('input').focus();
    changed();
  }}, t('faqAdd'));
  const save = h('button', {type: 'button', class: 'primary', id: 'faq-save', onclick: async () => {
    try {
      const res = await api('PUT', '/knowledge', {entries: payload(), version});
      toast(t('faqSaved', {v: String(res.version.version)}));
      route();
    } catch (e) {
      const ps = (e.detail && e.detail.problems) || [];
      put(err, h('p', {class: 'alert'}, ps.length ? t('faqNotSaved', {n: ps.length}) : e.message));
      showProblems(ps);
    }
  }}, t('save'));

  // Try a question with the entries as edited.
  const q = h('input', {type: 'text', id: 'faq-try-q', maxlength: 2000, autocomplete: 'off'});
  const result = h('div', {id: 'faq-try-result', 'aria-live': 'polite'});
  const tryIt = async () => {
    try {
      const p = await api('POST', '/knowledge/preview', {entries: payload(), question: q.value});
      if (p.problems && p.problems.length) {
        put(result, h('p', {class: 'alert'}, t('faqFixFirst')));
        showProblems(p.problems);
        return;
      }
      const pct = String(Math.round(100 * p.confidence));
      let line;
      if (p.intent === 'faq') line = t('faqPickFAQ', {id: p.entry, pct});
      else if (p.intent === 'clarify' && p.entry) line = t('faqPickClarify', {id: p.entry, pct});
      else if (p.intent === 'unknown' || p.intent === 'clarify') line = t('faqPickUnknown', {pct});
      else line = t('faqPickIntent', {intent: intentName(p.intent), pct});
      put(result, h('p', {id: 'faq-try-pick', 'data-entry': p.entry || '', 'data-intent': p.intent}, line),
        p.answer ? ['vi', 'en'].map((l) => h('div', {class: 'lang', 'data-lang': l}, h('div', {class: 'tag'}, l),
          h('div', {class: 'bubble said', id: 'faq-try-' + l}, p.answer[l]))) : null);
    } catch (e) { put(result, h('p', {class: 'alert'}, e.message)); }
  };
  q.addEventListener('keydown', (ev) => { if (ev.key === 'Enter') { ev.preventDefault(); tryIt(); } });
  const tryBox = h('div', {class: 'card', id: 'faq-try'},
    h('h2', {}, t('faqTry')), h('p', {class: 'muted'}, t('faqTryHint')),
    h('div', {class: 'bar'}, h('label', {class: 'grow'}, t('faqTryLabel'), q),
      h('button', {type: 'button', id: 'faq-try-button', onclick: tryIt}, t('faqTryButton'))),
    result);

  const filter = h('input', {type: 'search', id: 'faq-filter', placeholder: t('faqFilter'), 'aria-label': t('faqFilter')});
  filter.addEventListener('input', () => {
    const f = filter.value.trim().toLowerCase();
    for (const c of list.children) c.hidden = !!f &&
      ![...c.querySelectorAll('input, textarea')].some((a) => a.value.toLowerCase().includes(f));
  });

  const history = st.history.length ? h('div', {class: 'scroll card'}, h('table', {id: 'faq-versions', class: 'cards'},
    h('tbody', {}, st.history.map((v, i) => h('tr', {'data-version': v.version},
      h('td', {'data-label': t('colVersion')}, 'v' + v.version, i === 0 ? h('div', {class: 'muted'}, t('current')) : null,
        v.rolled_back_from ? h('div', {class: 'muted'}, t('faqRolledBack', {v: String(v.rolled_back_from)})) : null),
      h('td', {'data-label': t('colWhen')}, fmtTime(v.at)),
      h('td', {'data-label': t('colWho')}, v.by + (v.origin ? ' (' + v.origin + ')' : '')),
      h('td', {'data-label': t('faq')}, t('faqEntries', {n: (v.entries || []).length})),
      h('td', {class: 'actions'}, i > 0 ? confirmButton({class: 'faq-restore'}, t('restore', {v: String(v.version)}),
        t('confirmRestore', {v: String(v.version)}), t('confirmRestore', {v: String(v.version)}), async () => {
          try {
            const res = await api('POST', '/knowledge/rollback', {to: v.version, version});
            toast(t('faqSaved', {v: String(res.version.version)}));
            route();
          } catch (e) { toast(e.message); }
        }) : null))))))
    : h('p', {class: 'muted'}, t('faqNoHistory'));

  put(view, h('div', {id: 'faq-view'},
    h('div', {class: 'bar'}, h('h1', {class: 'grow'}, t('faq')),
      h('span', {class: 'muted', id: 'faq-version'}, version ? t('faqVersion', {v: String(version)}) : t('faqFile')), unsaved, save),
    h('p', {class: 'muted'}, t('faqIntro')),
    tryBox, err,
    h('div', {class: 'bar'}, count, filter, add),
    list,
    h('h2', {}, t('faqHistory')), history));
}

window.addEventListener('hashchange', route);
route();
