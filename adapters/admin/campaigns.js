// idicbot admin page: campaigns and journeys ("Chiến dịch"). The list with
// live progress and measures, a new campaign with its preview, a test send
// and a start now or at a shop time, and pause / resume / cancel. It uses
// admin.js's helpers (h, put, api, toast, confirmButton, conditionBuilder,
// loadSegments) at call time; it is loaded first so that admin.js's first
// route finds showCampaigns. Its texts are its own catalog, beside the
// page's, with the same {name} placeholders and plural forms.
'use strict';

const CMSG = {
  vi: {
    title: 'Chiến dịch', intro: 'Tin nhắn shop gửi trước: chiến dịch một lần và hành trình tự động. Không gửi cho khách đã từ chối, đã nhận đủ tin gần đây, hay ngoài khung giờ kênh cho phép; giờ yên lặng {quiet} được giữ lại đến sáng.',
    introNoQuiet: 'Tin nhắn shop gửi trước: chiến dịch một lần và hành trình tự động. Không gửi cho khách đã từ chối, đã nhận đủ tin gần đây, hay ngoài khung giờ kênh cho phép.',
    newCampaign: 'Chiến dịch mới', campaigns: 'Chiến dịch và lần chạy của hành trình', journeys: 'Hành trình tự động',
    none: 'Chưa có chiến dịch nào. Bấm “Chiến dịch mới” để tạo.', noJourneys: 'Chưa có hành trình nào: khai báo trong configs/journeys.yaml.',
    colName: 'Chiến dịch', colStatus: 'Trạng thái', colProgress: 'Tiến độ', colWhen: 'Thời gian', colResults: 'Kết quả', colJourney: 'Hành trình', colAudience: 'Đối tượng', colMessage: 'Nội dung',
    kind_campaign: 'chiến dịch', kind_journey: 'hành trình',
    st_scheduled: 'đã lên lịch', st_running: 'đang gửi', st_paused: 'tạm dừng', st_cancelled: 'đã huỷ', st_done: 'đã xong', st_on: 'đang bật', st_off: 'đang tắt',
    progress: 'đã gửi {sent} · bỏ qua {skipped} · lỗi {failed} · còn lại {remaining}', eta: 'dự kiến xong {t}', startsAt: 'bắt đầu {t}', created: 'tạo {t} bởi {who}',
    measures: 'đã nhận {delivered} · trả lời trong 48 giờ {replied} ({rate}) · nhận ưu đãi {accepted} · đơn {orders} · doanh thu {revenue} · từ chối nhận tin {optouts}',
    occurrences: {other: '{n} lần chạy'},
    pause: 'Tạm dừng', resume: 'Tiếp tục', cancel: 'Huỷ chiến dịch', confirmPause: 'Tạm dừng thật?', confirmCancel: 'Huỷ thật?',
    confirmPauseHint: 'Bấm lần nữa để tạm dừng: tin chưa gửi được giữ lại cho đến khi tiếp tục.',
    confirmCancelHint: 'Bấm lần nữa để huỷ: không gửi thêm tin nào, không thể hoàn tác.',
    nowStatus: 'Chiến dịch {id}: {status}.', refreshed: 'Tự cập nhật mỗi vài giây khi đang gửi.',
    j_birthday: 'Sinh nhật, lúc {at}', j_payday: '{days} ngày cuối tháng, lúc {at}', j_segment_entry: '{days} ngày sau khi vào nhóm {seg}, lúc {at}',
    j_after_order: '{days} ngày sau đơn gần nhất, lúc {at}', j_reengage: 'Im lặng {days} ngày, vẫn ở nhóm {seg}, lúc {at}', j_unfinished: 'Hỏi giá hay hỏi mua mà chưa đặt sau {hours} giờ',
    allCustomers: 'mọi khách', offerMsg: 'ưu đãi {o}', textMsg: 'nội dung riêng',
    back: '← Chiến dịch', fId: 'Mã', fIdHint: 'a-z 0-9 _ -, để trống: tự đặt', fName: 'Tên',
    audience: 'Đối tượng', fSegments: 'Nhóm khách', fSegmentsHint: 'không chọn nhóm nào: mọi nhóm', fRule: 'Điều kiện thêm', fRuleHint: 'không bắt buộc; chọn bên dưới hoặc viết',
    message: 'Nội dung', fromOffer: 'Từ một ưu đãi', fromText: 'Tự viết', fOffer: 'Ưu đãi', pickOffer: 'Chọn ưu đãi…', fText: 'Nội dung ({l})', textHint: 'Câu “Nhắn STOP để ngừng nhận tin” được thêm tự động.',
    when: 'Thời gian gửi', now: 'Gửi ngay', at: 'Vào lúc', fAt: 'Ngày giờ (giờ của shop, {tz})',
    preview: 'Xem trước', previewHint: 'Xem trước không gửi gì.', inAudience: {other: '{n} khách trong đối tượng'},
    wouldSend: 'Sẽ gửi', wouldSkip: 'Sẽ bỏ qua', nobody: 'không ai', sample: 'Mẫu: {l}', skippedNamed: 'Ví dụ khách bị bỏ qua',
    testSend: 'Gửi thử cho một khách', findCustomer: 'Tìm khách: tên, số điện thoại hoặc mã', noName: '(không tên)', noCustomer: 'Không tìm thấy khách nào.',
    testTo: 'Gửi thử cho {c}', testSent: 'Đã gửi thử qua {ch}: “{text}”', pickCustomer: 'Chọn một khách trước.',
    start: 'Bắt đầu gửi', schedule: 'Lên lịch', confirmStart: 'Gửi cho cả đối tượng?', confirmStartHint: 'Bấm lần nữa để bắt đầu: tin sẽ được gửi cho mọi khách trong đối tượng.',
    started: 'Đã tạo chiến dịch {id}.', needMessage: 'Chọn một ưu đãi hoặc viết nội dung.', needAt: 'Chọn ngày giờ gửi.',
    newJourney: 'Hành trình mới', editJourney: 'Sửa hành trình {id}', edit: 'Sửa', fKind: 'Khi nào gửi', fAtTime: 'Giờ gửi (giờ của shop)',
    fDays: 'Số ngày', fHours: 'Số giờ', fSegment: 'Nhóm', fOff: 'Tạm tắt hành trình này', saveJourney: 'Lưu hành trình',
    deleteJourney: 'Xoá hành trình', confirmDelete: 'Xoá thật?', confirmDeleteHint: 'Bấm lần nữa để xoá: các lần chạy trước và kết quả vẫn được giữ.',
    journeySaved: 'Đã lưu hành trình {id} (phiên bản {v}); nó chạy từ lần xét kế tiếp.', journeyDeleted: 'Đã xoá hành trình {id}.',
    journeysFromFile: 'Các hành trình đang lấy từ tệp configs/journeys.yaml; khi lưu ở đây, bản lưu được dùng thay cho tệp.',
    journeysSaved: 'Các hành trình đã được sửa ở đây (phiên bản {v}): bản lưu được dùng thay cho tệp configs/journeys.yaml.',
    journeysReadOnly: 'Các hành trình được khai báo trong configs/journeys.yaml.',
    k_birthday: 'Vào ngày sinh nhật', k_payday: 'Những ngày cuối tháng (ngày lương)', k_segment_entry: 'Vài ngày sau khi khách vào một nhóm',
    k_after_order: 'Vài ngày sau đơn hàng gần nhất', k_reengage: 'Khách im lặng một thời gian', k_unfinished: 'Hỏi giá hay hỏi mua mà chưa đặt',
    more: {other: 'Xem thêm ({n} nữa)'},
    lang_vi: 'tiếng Việt', lang_en: 'tiếng Anh',
    skip_opted_out: 'đã từ chối nhận tin', skip_capped: 'đã nhận đủ tin khuyến mãi gần đây', skip_no_channel: 'không có kênh liên lạc',
    skip_window_closed: 'kênh không cho gửi lúc này', skip_not_eligible: 'không đủ điều kiện ưu đãi', skip_handoff: 'đang nói chuyện với nhân viên', skip_no_message: 'nội dung không hiển thị được',
  },
  en: {
    title: 'Campaigns', intro: 'Messages the shop sends first: one-off campaigns and automatic journeys. Nobody who opted out, had enough promotions lately or is outside what the channel allows gets one; quiet hours {quiet} are held until morning.',
    introNoQuiet: 'Messages the shop sends first: one-off campaigns and automatic journeys. Nobody who opted out, had enough promotions lately or is outside what the channel allows gets one.',
    newCampaign: 'New campaign', campaigns: 'Campaigns and journey runs', journeys: 'Automatic journeys',
    none: 'No campaigns yet. Press “New campaign” to make one.', noJourneys: 'No journeys yet: they are set in configs/journeys.yaml.',
    colName: 'Campaign', colStatus: 'Status', colProgress: 'Progress', colWhen: 'When', colResults: 'Results', colJourney: 'Journey', colAudience: 'Audience', colMessage: 'Message',
    kind_campaign: 'campaign', kind_journey: 'journey',
    st_scheduled: 'scheduled', st_running: 'sending', st_paused: 'paused', st_cancelled: 'cancelled', st_done: 'done', st_on: 'on', st_off: 'off',
    progress: 'sent {sent} · skipped {skipped} · failed {failed} · remaining {remaining}', eta: 'done about {t}', startsAt: 'starts {t}', created: 'made {t} by {who}',
    measures: 'delivered {delivered} · replied within 48 h {replied} ({rate}) · accepted {accepted} · orders {orders} · revenue {revenue} · opt-outs {optouts}',
    occurrences: {one: '{n} run', other: '{n} runs'},
    pause: 'Pause', resume: 'Resume', cancel: 'Cancel campaign', confirmPause: 'Really pause?', confirmCancel: 'Really cancel?',
    confirmPauseHint: 'Press again to pause: messages not sent yet are held until you resume.',
    confirmCancelHint: 'Press again to cancel: nothing more is sent, and it cannot be undone.',
    nowStatus: 'Campaign {id}: {status}.', refreshed: 'Refreshed every few seconds while sending.',
    j_birthday: 'Birthday, at {at}', j_payday: 'Last {days} days of the month, at {at}', j_segment_entry: '{days} days after entering {seg}, at {at}',
    j_after_order: '{days} days after the last order, at {at}', j_reengage: 'Quiet for {days} days, still {seg}, at {at}', j_unfinished: 'Asked a price or to buy, no order after {hours} hours',
    allCustomers: 'every customer', offerMsg: 'offer {o}', textMsg: 'its own text',
    back: '← Campaigns', fId: 'Id', fIdHint: 'a-z 0-9 _ -, empty: made for you', fName: 'Name',
    audience: 'Audience', fSegments: 'Segments', fSegmentsHint: 'none checked: every segment', fRule: 'Extra condition', fRuleHint: 'optional; pick below or write',
    message: 'Message', fromOffer: 'From an offer', fromText: 'Own text', fOffer: 'Offer', pickOffer: 'Pick an offer…', fText: 'Text ({l})', textHint: 'The “Reply STOP to stop these messages” line is added for you.',
    when: 'When to send', now: 'Now', at: 'At', fAt: 'Date and time (shop time, {tz})',
    preview: 'Preview', previewHint: 'A preview sends nothing.', inAudience: {one: '{n} customer in the audience', other: '{n} customers in the audience'},
    wouldSend: 'Would send', wouldSkip: 'Would skip', nobody: 'nobody', sample: 'Sample: {l}', skippedNamed: 'Skipped customers, for example',
    testSend: 'Test send to one customer', findCustomer: 'Find a customer: name, phone or id', noName: '(no name)', noCustomer: 'No customer found.',
    testTo: 'Send a test to {c}', testSent: 'Test sent on {ch}: “{text}”', pickCustomer: 'Pick a customer first.',
    start: 'Start sending', schedule: 'Schedule', confirmStart: 'Send to the whole audience?', confirmStartHint: 'Press again to start: every customer of the audience gets the message.',
    started: 'Campaign {id} made.', needMessage: 'Pick an offer or write a text.', needAt: 'Pick a date and time.',
    newJourney: 'New journey', editJourney: 'Edit journey {id}', edit: 'Edit', fKind: 'When it sends', fAtTime: 'Time of day (shop time)',
    fDays: 'Days', fHours: 'Hours', fSegment: 'Segment', fOff: 'Turn this journey off', saveJourney: 'Save journey',
    deleteJourney: 'Delete journey', confirmDelete: 'Really delete?', confirmDeleteHint: 'Press again to delete: its past runs and results stay.',
    journeySaved: 'Saved journey {id} (version {v}); it runs from the next look.', journeyDeleted: 'Deleted journey {id}.',
    journeysFromFile: 'The journeys come from configs/journeys.yaml; once saved here, the saved ones are used instead of the file.',
    journeysSaved: 'The journeys were edited here (version {v}): they are used instead of configs/journeys.yaml.',
    journeysReadOnly: 'The journeys are set in configs/journeys.yaml.',
    k_birthday: 'On the birthday', k_payday: 'Last days of the month (payday)', k_segment_entry: 'Days after entering a segment',
    k_after_order: 'Days after the last order', k_reengage: 'A customer who went quiet', k_unfinished: 'Asked a price or to buy, no order',
    more: 'Show more ({n} more)',
    lang_vi: 'Vietnamese', lang_en: 'English',
    skip_opted_out: 'opted out', skip_capped: 'had enough promotions lately', skip_no_channel: 'no channel to reach them',
    skip_window_closed: 'the channel does not allow it now', skip_not_eligible: 'not eligible for the offer', skip_handoff: 'talking with a person', skip_no_message: 'the message does not render for them',
  },
};

// ct prints a campaign text in the page's language; vars.n picks the
// plural form; numbers are grouped the language's way.
function ct(key, vars) {
  vars = vars || {};
  let m = CMSG[LANG][key];
  if (m === undefined) m = CMSG.vi[key];
  if (m === undefined) return '[' + key + ']';
  if (typeof m === 'object') m = m[plural.select(vars.n || 0)] || m.other;
  return m.replace(/\{(\w+)\}/g, (_, k) => (vars[k] === undefined ? '' : (typeof vars[k] === 'number' ? numFmt.format(vars[k]) : vars[k])));
}

// ctOr is ct(prefix + key), or key itself when there is no such text.
function ctOr(prefix, key) {
  return CMSG[LANG][prefix + key] !== undefined ? ct(prefix + key) : key;
}

// vnd is an amount of đồng as shops write it: 1.500.000 ₫, the sign on the
// same line.
function vnd(n) { return new Intl.NumberFormat('vi-VN').format(n || 0) + '\u00a0₫'; }

// shopTime shows an instant in the shop's time zone: by its name when the
// browser knows it (Asia/Ho_Chi_Minh), else by its offset now.
let shopZone = 'Asia/Ho_Chi_Minh', shopOffset = 420;
function shopTime(s) {
  if (!s || s.startsWith('0001')) return '';
  const opts = {year: 'numeric', month: 'numeric', day: 'numeric', hour: '2-digit', minute: '2-digit', hour12: false};
  const loc = LANG === 'vi' ? 'vi-VN' : 'en-GB';
  try {
    return new Date(s).toLocaleString(loc, Object.assign({timeZone: shopZone}, opts));
  } catch (e) {
    return new Date(new Date(s).getTime() + shopOffset * 60000).toLocaleString(loc, Object.assign({timeZone: 'UTC'}, opts));
  }
}

// campaignTimer refreshes the list while a campaign sends; one at a time,
// stopped when the view goes away.
let campaignTimer = null;
function stopCampaignTimer() { clearTimeout(campaignTimer); campaignTimer = null; }
window.addEventListener('hashchange', stopCampaignTimer);

async function outreachSettings() {
  const s = await api('GET', '/outreach');
  if (s.timezone) shopZone = s.timezone;
  if (typeof s.offset_minutes === 'number') shopOffset = s.offset_minutes;
  return s;
}

// showCampaigns is #/campaigns (the list) and #/campaigns/new (the form).
async function showCampaigns(sub, arg) {
  stopCampaignTimer();
  if (sub === 'new') return showCampaignForm();
  if (sub === 'journey') return showJourneyForm(arg);
  const [list, journeys, settings] = await Promise.all([api('GET', '/campaigns?stats=1'), api('GET', '/journeys'), outreachSettings(), loadSegments()]);
  const listBox = h('div', {id: 'campaign-list'});
  const journeyBox = h('div', {id: 'journey-list'});
  const quiet = settings.quiet_from ? settings.quiet_from + '–' + settings.quiet_until : '';
  put(view, h('div', {id: 'campaigns-view'},
    h('div', {class: 'bar'}, h('h1', {class: 'grow'}, ct('title')),
      h('a', {href: '#/campaigns/new', class: 'button primary', id: 'new-campaign'}, ct('newCampaign'))),
    h('p', {class: 'muted'}, quiet ? ct('intro', {quiet}) : ct('introNoQuiet')),
    h('h2', {}, ct('campaigns')), listBox,
    h('div', {class: 'bar'}, h('h2', {class: 'grow'}, ct('journeys')),
      settings.journeys_editable ? h('a', {href: '#/campaigns/journey', class: 'button', id: 'new-journey'}, ct('newJourney')) : null),
    h('p', {class: 'muted small', id: 'journeys-source'}, !settings.journeys_editable ? ct('journeysReadOnly')
      : settings.journeys_version ? ct('journeysSaved', {v: String(settings.journeys_version)}) : ct('journeysFromFile')),
    journeyBox));
  journeysEditable = !!settings.journeys_editable;
  renderCampaignList(listBox, list);
  renderJourneys(journeyBox, journeys, list);
  scheduleRefresh(listBox, journeyBox, journeys, list);
}

// scheduleRefresh polls the list while a campaign is scheduled, running
// or has messages waiting, and redraws it in place. Progress is cheap and
// read every 2 seconds; the measures (a read of each campaign's sends and
// their customers' events) when a status changes and every 30 seconds,
// the last ones shown in between.
function scheduleRefresh(listBox, journeyBox, journeys, list, polls) {
  polls = polls || 0;
  const live = list.some((c) => c.status === 'running' || c.status === 'scheduled' || c.pending > 0);
  if (!live) return;
  campaignTimer = setTimeout(async () => {
    if (!document.body.contains(listBox)) return;
    try {
      let fresh = await api('GET', '/campaigns');
      const prev = Object.fromEntries(list.map((c) => [c.id, c]));
      // A campaign that started, finished or appeared: its measures now.
      const changed = fresh.some((c) => !prev[c.id] || prev[c.id].status !== c.status);
      if (changed || (polls + 1) % 15 === 0) fresh = await api('GET', '/campaigns?stats=1');
      else for (const c of fresh) c.stats = prev[c.id] && prev[c.id].stats;
      if (!document.body.contains(listBox)) return;
      renderCampaignList(listBox, fresh);
      renderJourneys(journeyBox, journeys, fresh);
      scheduleRefresh(listBox, journeyBox, journeys, fresh, polls + 1);
    } catch (e) {
      toast(e.message);
    }
  }, 2000);
}

function measuresText(st) {
  st = st || {};
  return ct('measures', {delivered: st.delivered || 0, replied: st.replied_48h || 0, rate: Math.round((st.response_rate || 0) * 100) + '%',
    accepted: st.accepted || 0, orders: st.orders || 0, revenue: vnd(st.revenue), optouts: st.opt_outs || 0});
}

function skippedTotal(c) { return Object.values(c.skipped || {}).reduce((a, b) => a + b, 0); }

// campaignsShown is how many campaigns the list shows (newest first);
// "more" shows more. Journey runs add up (an unfinished-purchase journey
// makes one an hour).
let campaignsShown = 30;

function renderCampaignList(box, all) {
  if (!all.length) { put(box, h('p', {class: 'muted', id: 'no-campaigns'}, ct('none'))); return; }
  const list = all.slice(0, campaignsShown);
  const more = all.length - list.length;
  const cols = ['colName', 'colStatus', 'colProgress', 'colWhen', 'colResults', ''];
  const td = (i, attrs, ...kids) => h('td', Object.assign({'data-label': cols[i] ? ct(cols[i]) : null}, attrs), ...kids);
  const rows = list.map((c) => {
    const skipped = skippedTotal(c);
    const done = c.sent + c.failed + skipped;
    const total = done + c.remaining;
    const reasons = Object.entries(c.skipped || {}).filter(([, n]) => n > 0).map(([k, n]) => ctOr('skip_', k) + ' ' + numFmt.format(n)).join(' · ');
    const steer = [];
    if (c.status === 'running' || c.status === 'scheduled') {
      steer.push(confirmButton({class: 'camp-pause'}, ct('pause'), ct('confirmPause'), ct('confirmPauseHint'), () => steerCampaign(c.id, 'pause')));
    }
    if (c.status === 'paused') steer.push(h('button', {type: 'button', class: 'camp-resume', onclick: () => steerCampaign(c.id, 'resume')}, ct('resume')));
    if (c.status !== 'done' && c.status !== 'cancelled') {
      steer.push(confirmButton({class: 'camp-cancel danger'}, ct('cancel'), ct('confirmCancel'), ct('confirmCancelHint'), () => steerCampaign(c.id, 'cancel')));
    }
    return h('tr', {'data-campaign': c.id, 'data-status': c.status},
      td(0, {class: 'title-cell'}, h('strong', {}, c.name || c.id), h('div', {class: 'muted'}, c.id + ' · ' + ctOr('kind_', c.kind))),
      td(1, {}, h('span', {class: 'badge camp-' + c.status}, ctOr('st_', c.status))),
      td(2, {class: 'camp-progress'},
        h('progress', {max: Math.max(total, 1), value: done, 'aria-label': ct('colProgress') + ' ' + (c.name || c.id)}),
        h('div', {class: 'progress-text'}, ct('progress', {sent: c.sent, skipped, failed: c.failed, remaining: c.remaining})),
        reasons ? h('div', {class: 'muted small'}, reasons) : null),
      td(3, {},
        c.eta && c.status === 'running' ? h('div', {class: 'camp-eta'}, ct('eta', {t: shopTime(c.eta)})) : null,
        c.at && c.status === 'scheduled' ? h('div', {}, ct('startsAt', {t: shopTime(c.at)})) : null,
        h('div', {class: 'muted small'}, ct('created', {t: shopTime(c.created_at), who: c.created_by || '—'}))),
      td(4, {class: 'camp-measures'}, measuresText(c.stats)),
      td(5, {class: 'actions'}, steer));
  });
  put(box, h('div', {class: 'scroll card'}, h('table', {id: 'campaigns', class: 'cards'},
    h('thead', {}, h('tr', {}, cols.map((c) => h('th', {}, c ? ct(c) : '')))),
    h('tbody', {}, rows))),
  more > 0 ? h('button', {type: 'button', id: 'c-more', onclick: () => { campaignsShown += 30; renderCampaignList(box, all); }}, ct('more', {n: more})) : null,
  h('p', {class: 'muted small'}, ct('refreshed')));
}

async function steerCampaign(id, action) {
  try {
    const c = await api('POST', '/campaigns/' + encodeURIComponent(id) + '/' + action);
    toast(ct('nowStatus', {id, status: ctOr('st_', c.status)}));
    route();
  } catch (e) {
    toast(e.message);
  }
}

function audienceText(a) {
  a = a || {};
  const parts = [];
  if (a.segments && a.segments.length) parts.push(a.segments.map(segLabel).join(', '));
  if (a.rule) parts.push(a.rule);
  return parts.length ? parts.join(' · ') : ct('allCustomers');
}

let journeysEditable = false;

// renderJourneys lists the journeys, each with the sum of its runs'
// measures (a run is the campaign "j-<id>-<date>").
function renderJourneys(box, journeys, list) {
  if (!journeys.length) { put(box, h('p', {class: 'muted'}, ct('noJourneys'))); return; }
  const cols = ['colJourney', 'colStatus', 'colAudience', 'colMessage', 'colResults', ''];
  const td = (i, attrs, ...kids) => h('td', Object.assign({'data-label': cols[i] ? ct(cols[i]) : null}, attrs), ...kids);
  const rows = journeys.map((j) => {
    const runs = list.filter((c) => c.kind === 'journey' && c.id.startsWith('j-' + j.id + '-'));
    const sum = {};
    for (const r of runs) for (const [k, v] of Object.entries(r.stats || {})) sum[k] = (sum[k] || 0) + v;
    sum.response_rate = sum.delivered ? (sum.replied_48h || 0) / sum.delivered : 0;
    const sent = runs.reduce((a, r) => a + r.sent, 0);
    const when = ct('j_' + j.kind, {at: j.at || '09:00', days: j.days || 0, hours: j.hours || 0, seg: segLabel(j.segment || '')});
    return h('tr', {'data-journey': j.id},
      td(0, {class: 'title-cell'}, h('strong', {}, j.name || j.id), h('div', {class: 'muted'}, when)),
      td(1, {}, h('span', {class: 'badge camp-' + (j.off ? 'off' : 'on')}, ct(j.off ? 'st_off' : 'st_on'))),
      td(2, {}, audienceText(j.audience)),
      td(3, {}, j.offer ? ct('offerMsg', {o: j.offer}) : ct('textMsg')),
      td(4, {class: 'camp-measures'}, h('div', {}, ct('occurrences', {n: runs.length}) + ' · ' + ct('progress', {sent, skipped: runs.reduce((a, r) => a + skippedTotal(r), 0),
        failed: runs.reduce((a, r) => a + r.failed, 0), remaining: runs.reduce((a, r) => a + r.remaining, 0)})), h('div', {}, measuresText(sum))),
      td(5, {class: 'actions'}, journeysEditable ? h('a', {href: '#/campaigns/journey/' + encodeURIComponent(j.id), class: 'button j-edit'}, ct('edit')) : null));
  });
  put(box, h('div', {class: 'scroll card'}, h('table', {id: 'journeys', class: 'cards'},
    h('thead', {}, h('tr', {}, cols.map((c) => h('th', {}, c ? ct(c) : '')))),
    h('tbody', {}, rows))));
}

// ---- form pieces shared by campaigns and journeys ----

// audienceFields are an audience's segments (ticked) and extra rule, with
// the pick-list condition builder; collect() reads them.
function audienceFields(p, builderId, a) {
  a = a || {};
  const segBoxes = h('div', {class: 'chips', id: p + '-segments', role: 'group', 'aria-labelledby': p + '-segments-label'}, segmentNames.map((s) =>
    h('label', {}, h('input', {type: 'checkbox', value: s, checked: (a.segments || []).includes(s)}), segLabel(s))));
  const rule = h('textarea', {id: p + '-rule', name: 'rule', rows: 2, class: 'code', spellcheck: 'false'}, a.rule || '');
  const el = h('fieldset', {class: 'group'}, h('legend', {}, ct('audience')),
    h('div', {class: 'field'}, h('span', {class: 'flabel', id: p + '-segments-label'}, ct('fSegments'), h('small', {}, ' ' + ct('fSegmentsHint'))), segBoxes),
    h('label', {}, ct('fRule'), h('small', {}, ' ' + ct('fRuleHint')), rule),
    conditionBuilder(rule, builderId));
  const collect = () => ({segments: [...segBoxes.querySelectorAll('input:checked')].map((i) => i.value), rule: rule.value.trim()});
  return {el, collect};
}

// messageFields are a message: an offer, or a text per language;
// collect() reads them (an error when neither is given).
function messageFields(p, offers, m) {
  m = m || {};
  const useOffer = m.offer ? true : m.text ? false : offers.length > 0;
  const offerSel = h('select', {id: p + '-offer', name: 'offer'}, h('option', {value: ''}, ct('pickOffer')),
    offers.map((o) => h('option', {value: o.id, selected: o.id === m.offer}, (o.name || o.id) + ' (' + o.id + ')')));
  const texts = {};
  for (const l of ['vi', 'en']) texts[l] = h('textarea', {id: p + '-text-' + l, name: 'text-' + l, rows: 3}, (m.text || {})[l] || '');
  const radio = (value, label, checked) => h('label', {}, h('input', {type: 'radio', name: p + '-msg', value, checked, id: p + '-msg-' + value}), label);
  const boxOffer = h('div', {id: p + '-msgbox-offer', hidden: !useOffer}, h('label', {}, ct('fOffer'), offerSel));
  const boxText = h('div', {id: p + '-msgbox-text', hidden: useOffer},
    ['vi', 'en'].map((l) => h('label', {}, ct('fText', {l: ct('lang_' + l)}), texts[l])), h('p', {class: 'muted small'}, ct('textHint')));
  const el = h('fieldset', {class: 'group'}, h('legend', {}, ct('message')),
    h('div', {class: 'chips'}, radio('offer', ct('fromOffer'), useOffer), radio('text', ct('fromText'), !useOffer)), boxOffer, boxText);
  el.addEventListener('change', (ev) => {
    if (ev.target.name !== p + '-msg') return;
    boxOffer.hidden = ev.target.value !== 'offer';
    boxText.hidden = ev.target.value !== 'text';
  });
  const collect = () => {
    if (el.querySelector('input[name="' + p + '-msg"]:checked').value === 'offer') {
      if (!offerSel.value) throw new Error(ct('needMessage'));
      return {offer: offerSel.value};
    }
    const text = {};
    for (const l of ['vi', 'en']) if (texts[l].value.trim()) text[l] = texts[l].value.trim();
    if (!Object.keys(text).length) throw new Error(ct('needMessage'));
    return {text};
  };
  return {el, collect};
}

// ---- a new campaign ----

async function showCampaignForm() {
  const [settings, offers] = await Promise.all([outreachSettings(),
    api('GET', '/offers').then((r) => r.offers).catch(() => []), loadSegments()]);
  const input = (id, attrs) => h('input', Object.assign({id, name: id}, attrs));
  const aud = audienceFields('c', 'camp-builder');
  const msg = messageFields('c', offers);
  const radio = (name, value, label, checked) => h('label', {}, h('input', {type: 'radio', name, value, checked, id: 'c-' + name + '-' + value}), label);
  const at = input('c-at', {type: 'datetime-local', min: settings.now_local, value: ''});
  const atBox = h('div', {id: 'c-at-box', hidden: true}, h('label', {}, ct('fAt', {tz: settings.timezone}), at));
  const err = h('div', {class: 'err', id: 'c-error', role: 'alert'});
  const out = h('div', {id: 'c-preview-out'});
  const testOut = h('div', {id: 'c-test-out', role: 'status'});

  const form = h('form', {id: 'campaign-form', class: 'card', autocomplete: 'off'},
    h('div', {class: 'grid2'},
      h('label', {}, ct('fName'), input('c-name', {type: 'text', required: true})),
      h('label', {}, ct('fId'), h('small', {}, ' ' + ct('fIdHint')), input('c-id', {type: 'text', pattern: '[a-z0-9_\\-]+'}))),
    aud.el, msg.el,
    h('fieldset', {class: 'group'}, h('legend', {}, ct('when')),
      h('div', {class: 'chips'}, radio('when', 'now', ct('now'), true), radio('when', 'at', ct('at'), false)), atBox),
    err,
    h('div', {class: 'bar'},
      h('button', {type: 'button', id: 'c-preview', onclick: runPreview}, ct('preview')),
      h('span', {class: 'muted small'}, ct('previewHint'))));

  const search = h('input', {type: 'search', id: 'c-customer-q', placeholder: ct('findCustomer'), 'aria-label': ct('findCustomer')});
  const hits = h('ul', {class: 'hits', id: 'c-customer-hits'});
  let customer = null;
  const testBtn = h('button', {type: 'button', id: 'c-test', disabled: true, onclick: testSend}, ct('testSend'));
  let searchTimer;
  search.addEventListener('input', () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(async () => {
      const q = search.value.trim();
      if (!q) { put(hits); return; }
      try {
        const res = await api('GET', '/customers?q=' + encodeURIComponent(q));
        put(hits, ...res.customers.map((c) => h('li', {}, h('button', {type: 'button', class: 'c-hit', onclick: () => {
          customer = c; put(hits); search.value = '';
          testBtn.disabled = false;
          testBtn.textContent = ct('testTo', {c: (c.name || ct('noName')) + ' #' + c.id});
        }}, `${c.name || ct('noName')} · #${c.id} · ${segLabel(c.segment)}${c.phone ? ' · ' + c.phone : ''}`))));
        if (!res.customers.length) put(hits, h('li', {class: 'muted'}, ct('noCustomer')));
      } catch (e) { put(hits, h('li', {class: 'err'}, e.message)); }
    }, 250);
  });
  const startBtn = confirmButton({class: 'primary', id: 'c-start'}, ct('start'), ct('confirmStart'), ct('confirmStartHint'), create);
  const side = h('aside', {class: 'card preview', id: 'c-side'},
    h('h2', {}, ct('preview')), out,
    h('h2', {}, ct('testSend')), search, hits, testBtn, testOut,
    h('div', {class: 'bar start-bar'}, startBtn));

  put(view,
    h('div', {class: 'bar'}, h('h1', {class: 'grow'}, ct('newCampaign')), h('a', {href: '#/campaigns'}, ct('back'))),
    h('div', {class: 'editor'}, form, side));

  form.addEventListener('change', (ev) => {
    if (ev.target.name === 'when') {
      atBox.hidden = ev.target.value !== 'at';
      startBtn.textContent = ev.target.value === 'at' ? ct('schedule') : ct('start');
    }
  });
  form.addEventListener('submit', (ev) => { ev.preventDefault(); runPreview(); });

  function collect() {
    const b = Object.assign({name: document.getElementById('c-name').value.trim(), id: document.getElementById('c-id').value.trim()},
      aud.collect(), msg.collect());
    if (form.querySelector('input[name="when"]:checked').value === 'at') {
      if (!at.value) throw new Error(ct('needAt'));
      b.at_local = at.value;
    }
    return b;
  }

  async function runPreview() {
    err.textContent = '';
    try {
      const p = await api('POST', '/campaigns/preview', collect());
      const send = Object.entries(p.send_per_channel || {}).map(([k, n]) => k + ' ' + numFmt.format(n)).join(' · ');
      const skip = Object.entries(p.skipped || {}).map(([k, n]) => ctOr('skip_', k) + ' ' + numFmt.format(n)).join(' · ');
      put(out,
        h('p', {class: 'note', id: 'c-audience'}, ct('inAudience', {n: p.audience})),
        h('dl', {class: 'camp-dl'},
          h('dt', {}, ct('wouldSend')), h('dd', {id: 'c-send'}, send || ct('nobody')),
          h('dt', {}, ct('wouldSkip')), h('dd', {id: 'c-skip'}, skip || ct('nobody'))),
        p.skipped_customers && p.skipped_customers.length ? h('details', {}, h('summary', {}, ct('skippedNamed')),
          h('ul', {class: 'moves'}, p.skipped_customers.slice(0, 20).map((s) =>
            h('li', {}, `${s.name || ct('noName')} #${s.customer_id}: ${ctOr('skip_', s.reason)}`)))) : null,
        Object.entries(p.samples || {}).sort(([a], [b]) => (a === 'vi' ? -1 : b === 'vi' ? 1 : a.localeCompare(b))).map(([l, text]) => h('div', {class: 'lang', 'data-lang': l},
          h('div', {class: 'tag'}, ct('sample', {l: ctOr('lang_', l)})), h('div', {class: 'bubble', id: 'c-sample-' + l}, text))));
    } catch (e) {
      err.textContent = e.message;
    }
  }

  async function testSend() {
    err.textContent = '';
    if (!customer) { err.textContent = ct('pickCustomer'); return; }
    try {
      const b = collect();
      b.customer_id = customer.id;
      const res = await api('POST', '/campaigns/test', b);
      put(testOut, h('p', {class: 'note', id: 'c-test-done'}, ct('testSent', {ch: res.channel, text: res.text})));
    } catch (e) {
      err.textContent = e.message;
    }
  }

  async function create() {
    err.textContent = '';
    try {
      const c = await api('POST', '/campaigns', collect());
      toast(ct('started', {id: c.id}));
      location.hash = '#/campaigns';
    } catch (e) {
      err.textContent = e.message;
    }
  }
}

// ---- a journey ----

const JOURNEY_KINDS = ['birthday', 'payday', 'segment_entry', 'after_order', 'reengage', 'unfinished'];

// showJourneyForm is #/campaigns/journey[/<id>]: a new journey, or one to
// change or delete; saved with the version of the journeys read.
async function showJourneyForm(id) {
  const [settings, journeys, offers] = await Promise.all([outreachSettings(), api('GET', '/journeys'),
    api('GET', '/offers').then((r) => r.offers).catch(() => []), loadSegments()]);
  const version = settings.journeys_version || 0;
  let j = {kind: 'birthday', at: '09:00', days: 3, hours: 2, audience: {}};
  if (id) {
    j = journeys.find((x) => x.id === id);
    if (!j) throw new Error(ct('none'));
  }
  const input = (name, attrs) => h('input', Object.assign({id: 'j-' + name, name}, attrs));
  const kind = h('select', {id: 'j-kind', name: 'kind'}, JOURNEY_KINDS.map((k) => h('option', {value: k, selected: j.kind === k}, ct('k_' + k))));
  const seg = h('select', {id: 'j-segment', name: 'segment'}, segmentNames.map((s) => h('option', {value: s, selected: j.segment === s}, segLabel(s))));
  const atBox = h('label', {id: 'j-at-box'}, ct('fAtTime'), input('at', {type: 'time', value: j.at || '09:00'}));
  const daysBox = h('label', {id: 'j-days-box'}, ct('fDays'), input('days', {type: 'number', min: 1, value: j.days || 1}));
  const hoursBox = h('label', {id: 'j-hours-box'}, ct('fHours'), input('hours', {type: 'number', min: 1, value: j.hours || 1}));
  const segBox = h('label', {id: 'j-segment-box'}, ct('fSegment'), seg);
  const sync = () => {
    const k = kind.value;
    atBox.hidden = k === 'unfinished';
    daysBox.hidden = k === 'birthday' || k === 'unfinished';
    hoursBox.hidden = k !== 'unfinished';
    segBox.hidden = k !== 'segment_entry' && k !== 'reengage';
  };
  kind.addEventListener('change', sync);
  const aud = audienceFields('j', 'jour-builder', j.audience);
  const msg = messageFields('j', offers, {offer: j.offer, text: j.text});
  const off = input('off', {type: 'checkbox', checked: !!j.off});
  const err = h('div', {class: 'err', id: 'j-error', role: 'alert'});
  const save = async () => {
    err.textContent = '';
    try {
      const k = kind.value;
      const body = Object.assign({id: document.getElementById('j-id').value.trim(), name: document.getElementById('j-name').value.trim(),
        kind: k, audience: aud.collect(), off: off.checked, version}, msg.collect());
      if (k !== 'unfinished') body.at = document.getElementById('j-at').value;
      if (!daysBox.hidden) body.days = Number(document.getElementById('j-days').value);
      if (!hoursBox.hidden) body.hours = Number(document.getElementById('j-hours').value);
      if (!segBox.hidden) body.segment = seg.value;
      const res = await api('PUT', '/journeys/' + encodeURIComponent(body.id), body);
      toast(ct('journeySaved', {id: body.id, v: String(res.version)}));
      location.hash = '#/campaigns';
    } catch (e) {
      err.textContent = e.message;
    }
  };
  const form = h('form', {id: 'journey-form', class: 'card', autocomplete: 'off', onsubmit: (ev) => { ev.preventDefault(); save(); }},
    h('div', {class: 'grid2'},
      h('label', {}, ct('fName'), input('name', {type: 'text', value: j.name || '', required: true})),
      h('label', {}, ct('fId'), h('small', {}, ' a-z 0-9 _ -'), input('id', {type: 'text', value: j.id || '', readonly: !!id, required: true, pattern: '[a-z0-9_\\-]+'}))),
    h('fieldset', {class: 'group'}, h('legend', {}, ct('fKind')), h('label', {}, ct('fKind'), kind),
      h('div', {class: 'grid2'}, atBox, daysBox, hoursBox, segBox)),
    aud.el, msg.el,
    h('div', {class: 'chips'}, h('label', {}, off, ct('fOff'))),
    err,
    h('div', {class: 'bar start-bar'},
      h('button', {type: 'submit', class: 'primary', id: 'j-save'}, ct('saveJourney')),
      id ? confirmButton({class: 'danger', id: 'j-delete'}, ct('deleteJourney'), ct('confirmDelete'), ct('confirmDeleteHint'), async () => {
        try {
          await api('DELETE', '/journeys/' + encodeURIComponent(id) + '?version=' + version);
          toast(ct('journeyDeleted', {id}));
          location.hash = '#/campaigns';
        } catch (e) { err.textContent = e.message; }
      }) : null));
  put(view,
    h('div', {class: 'bar'}, h('h1', {class: 'grow'}, id ? ct('editJourney', {id}) : ct('newJourney')), h('a', {href: '#/campaigns'}, ct('back'))),
    form);
  sync();
}
