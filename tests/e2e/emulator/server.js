'use strict';
// A local Telegram Bot API for finews-bot's end-to-end tests.
//
// The emulator is the npm package telegram-test-api 4.2.1 (pinned in package-lock.json). Its
// storage and its client routes (/sendMessage, /sendCommand, /sendCallback, /getUpdates,
// /getUpdatesHistory: a test acting as a user) are used as they are. Its bot routes do not work
// with python-telegram-bot 22, so this wrapper answers every /bot<TOKEN>/<method> call itself,
// on top of the emulator's storage, and adds a control API for tests under /control/.
// Gaps bridged are marked "GAP" below.
//
//   node server.js [--port N] [--port-file PATH] [--parent-pid PID]
// --port (or TELEGRAM_EMULATOR_PORT) 0 picks a free port; the port is written to --port-file
// once the server answers. With --parent-pid the server exits when that process is gone.

const fs = require('fs');
const http = require('http');
const path = require('path');
const TelegramServer = require('telegram-test-api'); // module.exports is the class
// Express is the emulator's own dependency; resolve it from there so both share one copy.
const express = require(require.resolve('express', {
  paths: [path.dirname(require.resolve('telegram-test-api'))],
}));

const HOST = '127.0.0.1';
const BOT_NAME = 'finews-bot';
const BOT_USERNAME = process.env.TELEGRAM_EMULATOR_BOT_USERNAME || 'finews_test_bot';
const MAX_TEXT = 4096; // UTF-16 code units, after entity parsing (JS string length)
const MAX_CAPTION = 1024;

function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i += 2) out[argv[i].replace(/^--/, '')] = argv[i + 1];
  return out;
}

const args = parseArgs(process.argv.slice(2));
const port = Number(args.port ?? process.env.TELEGRAM_EMULATOR_PORT ?? 0);
// storeTimeout only matters for the emulator's clean-up timer, which runs after its own start();
// the wrapper serves its Express app instead, so nothing is ever expired.
const tg = new TelegramServer({ host: HOST, port, storeTimeout: 24 * 3600 });

class ApiError extends Error {
  constructor(code, description, parameters) {
    super(description);
    this.code = code;
    this.parameters = parameters;
  }
}
const badRequest = (what) => new ApiError(400, `Bad Request: ${what}`);

// ---------------------------------------------------------------- state kept by the wrapper
let seq = 0;
function freshState() {
  return {
    calls: [], // every bot API call: {seq, token, method, params, time, status, response}
    faults: [], // injected answers, first match wins
    admins: new Map(), // chat id -> {admins: Set of user ids, creator}
    chats: new Map(), // chat id -> chat object seen in a user's message
    users: new Map(), // user id -> user object seen in a user's message
    commands: new Map(), // token|scope|language -> {scope, language_code, commands}
    files: new Map(), // file_id -> {data, file_name, mime_type}
  };
}
let state = freshState();
const pollers = new Map(); // token -> the pending long poll (one per bot, as in Telegram)

function botId(token) {
  const head = String(token).split(':')[0];
  return /^\d+$/.test(head) ? Number(head) : 666;
}

function botUser(token) {
  return { id: botId(token), is_bot: true, first_name: BOT_NAME, username: BOT_USERNAME };
}

// GAP 2: the emulator says every chat is private. Telegram's ids tell the type: users are
// positive, basic groups negative, supergroups (and channels) -100xxxxxxxxxx.
function chatFor(chatId) {
  const known = state.chats.get(String(chatId));
  if (known) return known;
  const id = Number(chatId);
  if (!Number.isSafeInteger(id)) throw badRequest('chat not found');
  if (id > 0) return { id, type: 'private', first_name: `User ${id}` };
  if (id <= -1000000000000) return { id, type: 'supergroup', title: `Supergroup ${id}` };
  return { id, type: 'group', title: `Group ${id}` };
}

function userFor(token, userId) {
  const id = Number(userId);
  if (id === botId(token)) return botUser(token);
  return state.users.get(String(id)) || { id, is_bot: false, first_name: `User ${id}` };
}

// Form fields arrive as strings (PTB JSON-encodes non-string values); decode them once so that
// handlers and the call log see numbers, booleans and objects. Free-text fields stay strings.
const TEXT_FIELDS = new Set([
  'text', 'caption', 'parse_mode', 'callback_query_id', 'inline_message_id', 'url', 'description',
  'short_description', 'name', 'language_code', 'title', 'action', 'document', 'photo', 'file_id',
  'secret_token', 'data', 'emoji',
]);
function normalizeParams(raw) {
  const out = {};
  for (const [key, value] of Object.entries(raw || {})) {
    out[key] = value;
    if (typeof value !== 'string' || TEXT_FIELDS.has(key)) continue;
    try {
      out[key] = JSON.parse(value);
    } catch {
      // a plain string such as "@channel"
    }
  }
  return out;
}

// ----------------------------------------------------------------- Telegram's HTML subset
// Telegram answers 400 "can't parse entities" for HTML it does not accept; the emulator checks
// nothing. This parser accepts Telegram's tags and entities and returns the text without tags
// and its entities (offsets in UTF-16 units), or throws the 400.
const TAGS = {
  b: 'bold', strong: 'bold', i: 'italic', em: 'italic', u: 'underline', ins: 'underline',
  s: 'strikethrough', strike: 'strikethrough', del: 'strikethrough', 'tg-spoiler': 'spoiler',
  span: 'spoiler', a: 'text_link', code: 'code', pre: 'pre', blockquote: 'blockquote',
  'tg-emoji': 'custom_emoji',
};
const NAMED = { lt: '<', gt: '>', amp: '&', quot: '"' };

function parseHtml(src) {
  const fail = (what) => {
    throw badRequest(`can't parse entities: ${what}`);
  };
  const at = (i) => Buffer.byteLength(src.slice(0, i));
  const startTag = /<([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[a-zA-Z-]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'>]+))?)*)\s*>/y;
  const endTag = /<\/([a-zA-Z][a-zA-Z0-9-]*)\s*>/y;
  const entity = /&(#\d{1,7}|#x[0-9a-fA-F]{1,6}|[a-zA-Z]{2,8});/y;
  let text = '';
  const stack = [];
  const entities = [];
  let i = 0;
  let m;
  while (i < src.length) {
    const c = src[i];
    if (c === '<') {
      endTag.lastIndex = i;
      startTag.lastIndex = i;
      if (src[i + 1] === '/') {
        if (!(m = endTag.exec(src))) fail(`Unexpected end tag at byte offset ${at(i)}`);
        const name = m[1].toLowerCase();
        const open = stack.pop();
        if (!open) fail(`Unexpected end tag at byte offset ${at(i)}`);
        if (open.name !== name) {
          fail(`Unmatched end tag at byte offset ${at(i)}, expected "</${open.name}>", found "</${name}>"`);
        }
        if (text.length > open.offset && !open.skip) {
          entities.push({ type: TAGS[name], offset: open.offset, length: text.length - open.offset, ...open.extra });
        }
      } else {
        if (!(m = startTag.exec(src))) fail(`Unsupported start tag "" at byte offset ${at(i)}`);
        const name = m[1].toLowerCase();
        if (!(name in TAGS)) fail(`Unsupported start tag "${name}" at byte offset ${at(i)}`);
        const attrs = {};
        for (const a of m[2].matchAll(/([a-zA-Z-]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?/g)) {
          attrs[a[1].toLowerCase()] = a[2] ?? a[3] ?? a[4] ?? '';
        }
        const open = { name, offset: text.length, extra: {}, skip: false };
        if (name === 'span' && attrs.class !== 'tg-spoiler') fail('Tag "span" must have class "tg-spoiler"');
        if (name === 'a') open.extra.url = attrs.href;
        if (name === 'tg-emoji') open.extra.custom_emoji_id = attrs['emoji-id'];
        const parent = stack[stack.length - 1];
        if (name === 'code' && parent && parent.name === 'pre') {
          // <pre><code class="language-x"> is one pre entity with a language
          if (attrs.class && attrs.class.startsWith('language-')) parent.extra.language = attrs.class.slice(9);
          open.skip = true;
        }
        stack.push(open);
      }
      i += m[0].length;
    } else if (c === '&' && ((entity.lastIndex = i), (m = entity.exec(src)))) {
      const ref = m[1];
      if (ref[0] === '#') {
        text += String.fromCodePoint(ref[1] === 'x' ? parseInt(ref.slice(2), 16) : Number(ref.slice(1)));
      } else {
        text += NAMED[ref.toLowerCase()] ?? m[0]; // Telegram leaves other named entities as they are
      }
      i += m[0].length;
    } else {
      text += c;
      i += 1;
    }
  }
  if (stack.length) fail(`Can't find end tag corresponding to start tag "${stack[stack.length - 1].name}"`);
  entities.sort((x, y) => x.offset - y.offset || y.length - x.length);
  return { text, entities };
}

// Text of a message or caption as Telegram stores it, with Telegram's checks.
function formatText(raw, parseMode, entities, limit, what) {
  let text = raw == null ? '' : String(raw);
  let ents = Array.isArray(entities) ? entities : [];
  if (parseMode && String(parseMode).toUpperCase() === 'HTML') ({ text, entities: ents } = parseHtml(text));
  // MarkdownV2 / Markdown are stored as sent, without checks.
  if (what === 'message' && !text.trim()) throw badRequest('message text is empty');
  if (text.length > limit) throw badRequest(what === 'message' ? 'message is too long' : 'message caption is too long');
  const out = { text };
  if (ents.length) out.entities = ents;
  return out;
}

function inlineMarkup(markup) {
  return markup && typeof markup === 'object' && 'inline_keyboard' in markup ? markup : undefined;
}

// ------------------------------------------------------------------- bot messages
// Stored through the emulator (so its /getUpdates and /getUpdatesHistory see them); the
// Telegram-shaped message that the wrapper answered with is kept beside it as entry.tg.
function storeBotMessage(token, params, content) {
  const chat = chatFor(params.chat_id);
  const replyTo = repliedMessage(token, params);
  const raw = { ...params, chat_id: String(params.chat_id) };
  tg.addBotMessage(raw, token);
  const entry = tg.storage.botMessages[tg.storage.botMessages.length - 1];
  // GAP 2: the emulator answers date in milliseconds and chat.type "private"; answer Telegram's.
  entry.tg = {
    message_id: entry.messageId,
    from: botUser(token),
    chat,
    date: Math.floor(entry.time / 1000),
    ...content,
  };
  if (replyTo) entry.tg.reply_to_message = replyTo;
  const markup = inlineMarkup(params.reply_markup);
  if (markup) entry.tg.reply_markup = markup;
  return entry.tg;
}

// PTB's reply_text quotes in groups (reply_parameters): Telegram answers with reply_to_message,
// or 400 when the message does not exist, unless allow_sending_without_reply.
function repliedMessage(token, p) {
  const r = p.reply_parameters || (p.reply_to_message_id == null ? null
    : { message_id: p.reply_to_message_id, allow_sending_without_reply: p.allow_sending_without_reply });
  if (!r) return undefined;
  const chatId = String(r.chat_id ?? p.chat_id);
  const bot = findBotMessage(token, chatId, r.message_id);
  if (bot) {
    const { reply_to_message: ignored, ...flat } = bot.tg;
    return flat;
  }
  const user = tg.storage.userMessages.find((u) => u.botToken === token && u.message && u.message.chat
    && String(u.message.chat.id) === chatId && u.messageId === Number(r.message_id));
  if (user) return formatUpdate(user).message;
  if (r.allow_sending_without_reply) return undefined;
  throw badRequest('message to be replied not found');
}

function findBotMessage(token, chatId, messageId) {
  return tg.storage.botMessages.find(
    (u) => u.botToken === token && String(u.message.chat_id) === String(chatId)
      && String(u.messageId) === String(messageId),
  );
}

function editable(token, params) {
  if (params.inline_message_id) throw badRequest('inline messages are not supported by the emulator');
  const entry = findBotMessage(token, params.chat_id, params.message_id);
  if (!entry) throw badRequest('message to edit not found');
  return entry;
}

const same = (a, b) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
const notModified = () => badRequest('message is not modified: specified new message content and reply markup'
  + ' are exactly the same as a current content and reply markup of the message');

// GAP 3: the emulator's edits answer null; Telegram answers the edited Message.
function editText(token, p) {
  const entry = editable(token, p);
  const content = formatText(p.text, p.parse_mode, p.entities, MAX_TEXT, 'message');
  // Telegram drops an inline keyboard that an editMessageText call does not repeat.
  const markup = inlineMarkup(p.reply_markup);
  const old = entry.tg;
  if (old.text === content.text && same(old.entities, content.entities) && same(old.reply_markup, markup)) {
    throw notModified();
  }
  tg.editMessageText({ ...p }); // the emulator's own record (its history shows the edit)
  if (!markup) delete entry.message.reply_markup;
  entry.tg = { ...old, ...content, edit_date: Math.floor(Date.now() / 1000) };
  if (!content.entities) delete entry.tg.entities;
  if (markup) entry.tg.reply_markup = markup;
  else delete entry.tg.reply_markup;
  return entry.tg;
}

function editMarkup(token, p) {
  const entry = editable(token, p);
  const markup = inlineMarkup(p.reply_markup);
  if (same(entry.tg.reply_markup, markup)) throw notModified();
  tg.editMessageReplyMarkup({ ...p });
  if (!markup) delete entry.message.reply_markup;
  entry.tg = { ...entry.tg, edit_date: Math.floor(Date.now() / 1000) };
  if (markup) entry.tg.reply_markup = markup;
  else delete entry.tg.reply_markup;
  return entry.tg;
}

// sendDocument / sendPhoto (GAP 5: HTTP 500 in the emulator). Files arrive as multipart parts.
let fileCounter = 0;
function sendFile(kind) {
  return (token, p) => {
    let file = p[kind];
    if (typeof file === 'string' && file.startsWith('attach://')) file = p[file.slice(9)];
    let fileId;
    if (file && typeof file === 'object' && Buffer.isBuffer(file.data)) {
      if (!file.data.length) throw badRequest('file must be non-empty');
      fileId = `${kind}-${++fileCounter}`;
      state.files.set(fileId, { data: file.data, file_name: file.filename, mime_type: file.content_type });
    } else if (typeof file === 'string' && state.files.has(file)) {
      fileId = file; // resent by file_id
    } else {
      throw badRequest(`wrong file identifier/HTTP URL specified`);
    }
    const stored = state.files.get(fileId);
    const meta = { file_id: fileId, file_unique_id: `u${fileId}`, file_size: stored.data.length };
    const content = p.caption == null ? {} : formatText(p.caption, p.parse_mode, p.caption_entities, MAX_CAPTION, 'caption');
    const media = kind === 'document'
      ? { document: { ...meta, file_name: stored.file_name, mime_type: stored.mime_type } }
      : { photo: [{ ...meta, width: 800, height: 600 }] };
    const tgContent = { ...media };
    if (content.text !== undefined) tgContent.caption = content.text;
    if (content.entities) tgContent.caption_entities = content.entities;
    const params = { ...p, [kind]: fileId };
    if (typeof p[kind] === 'string' && p[kind].startsWith('attach://')) delete params[p[kind].slice(9)];
    return storeBotMessage(token, params, tgContent);
  };
}

// ------------------------------------------------------------------------- updates
// GAP 4: callback queries lack chat_instance. Also drop the emulator's botToken bookkeeping field.
function formatUpdate(update) {
  const out = TelegramServer.formatUpdate(update);
  if (out.message) {
    out.message = { ...out.message };
    delete out.message.botToken;
  }
  if (out.callback_query) {
    const q = out.callback_query;
    const chatId = q.message && q.message.chat ? q.message.chat.id : 0;
    q.chat_instance = update.callbackQuery.chat_instance || String(4000000000000 + Math.abs(Number(chatId)));
  }
  return out;
}

function pendingUpdates(token) {
  return tg.storage.userMessages
    .filter((u) => u.botToken === token && !u.isRead)
    .sort((a, b) => a.updateId - b.updateId);
}

// getUpdates as Telegram does it: `offset` confirms every update below it, and unconfirmed
// updates are delivered again (the emulator marks them read on first delivery and ignores
// offset, limit and timeout). timeout > 0 waits for an update (long polling) instead of
// answering at once, so PTB's default polling does not busy-loop. A second getUpdates for the
// same bot ends the pending one with 409, as Telegram does when two bot instances poll.
async function getUpdates(token, p, req, res) {
  if (tg.webhooks[token]) {
    throw new ApiError(409, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first");
  }
  const previous = pollers.get(token);
  if (previous) previous.finish('conflict');
  const offset = Number(p.offset);
  if (Number.isFinite(offset) && offset > 0) {
    for (const u of tg.storage.userMessages) if (u.botToken === token && u.updateId < offset) u.isRead = true;
  }
  const limit = Math.min(Math.max(Number(p.limit) || 100, 1), 100);
  const timeout = Math.min(Math.max(Number(p.timeout) || 0, 0), 50);
  if (!pendingUpdates(token).length && timeout > 0) {
    const why = await new Promise((resolve) => {
      const poller = {
        finish: (reason) => {
          clearTimeout(timer);
          tg.off('newUserUpdate', onUpdate);
          if (pollers.get(token) === poller) pollers.delete(token);
          resolve(reason);
        },
      };
      const onUpdate = (t) => t === token && poller.finish('update');
      const timer = setTimeout(() => poller.finish('timeout'), timeout * 1000);
      tg.on('newUserUpdate', onUpdate);
      res.on('close', () => poller.finish('closed'));
      pollers.set(token, poller);
    });
    if (why === 'conflict') {
      throw new ApiError(409, 'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running');
    }
  }
  return pendingUpdates(token).slice(0, limit).map(formatUpdate);
}

// ------------------------------------------------------------------ chats and members
function chatAdmins(chatId) {
  return state.admins.get(String(chatId)) || { admins: new Set(), creator: null };
}

function chatMember(token, chatId, userId) {
  const user = userFor(token, userId);
  const { admins, creator } = chatAdmins(chatId);
  if (creator !== null && String(creator) === String(userId)) return { status: 'creator', user, is_anonymous: false };
  if (admins.has(String(userId))) {
    return {
      status: 'administrator', user, can_be_edited: false, is_anonymous: false, can_manage_chat: true,
      can_delete_messages: true, can_manage_video_chats: true, can_restrict_members: true,
      can_promote_members: false, can_change_info: true, can_invite_users: true, can_post_stories: false,
      can_edit_stories: false, can_delete_stories: false, can_pin_messages: true,
    };
  }
  return { status: 'member', user };
}

function commandKey(token, p) {
  return `${token}|${JSON.stringify(p.scope || { type: 'default' })}|${p.language_code || ''}`;
}

function setCommands(token, p) {
  const commands = Array.isArray(p.commands) ? p.commands : [];
  if (commands.length > 100) throw badRequest('too many commands');
  for (const c of commands) {
    // Telegram refuses upper case, hyphens and over-long commands or descriptions.
    if (!/^[a-z0-9_]{1,32}$/.test(String(c.command))) throw badRequest('BOT_COMMAND_INVALID');
    const d = String(c.description ?? '');
    if (d.length < 1 || d.length > 256) throw badRequest('BOT_COMMAND_DESCRIPTION_INVALID');
  }
  state.commands.set(commandKey(token, p), {
    scope: p.scope || { type: 'default' }, language_code: p.language_code || '', commands,
  });
  return true;
}

// ---------------------------------------------------------- every bot method the wrapper answers
// PTB 22: Application.initialize -> getMe; Updater.start_polling -> deleteWebhook, then getUpdates
// in a loop; Updater.stop -> one last getUpdates(offset, timeout=0) to confirm what was fetched.
// Application.stop/shutdown and Bot.shutdown make no API calls.
const METHODS = {
  getMe: (token) => ({
    // GAP 1: the emulator's getMe has no is_bot, so PTB refuses to start.
    ...botUser(token), can_join_groups: true, can_read_all_group_messages: false,
    supports_inline_queries: false, can_connect_to_business: false, has_main_web_app: false,
  }),
  sendMessage: (token, p) => storeBotMessage(token, p, formatText(p.text, p.parse_mode, p.entities, MAX_TEXT, 'message')),
  editMessageText: editText,
  editMessageReplyMarkup: editMarkup,
  sendDocument: sendFile('document'),
  sendPhoto: sendFile('photo'),
  deleteMessage: (token, p) => {
    if (!tg.deleteMessage(Number(p.chat_id), Number(p.message_id))) throw badRequest('message to delete not found');
    return true;
  },
  getUpdates,
  answerCallbackQuery: (token, p) => {
    const known = tg.storage.userMessages.some(
      (u) => u.botToken === token && u.callbackQuery && String(u.callbackId) === String(p.callback_query_id),
    );
    if (!known) throw badRequest('query is too old and response timeout expired or query ID is invalid');
    return true;
  },
  getChat: (token, p) => ({
    ...chatFor(p.chat_id), accent_color_id: 0, max_reaction_count: 11,
    accepted_gift_types: {
      unlimited_gifts: false, limited_gifts: false, unique_gifts: false, premium_subscription: false,
      gifts_from_channels: false,
    },
  }),
  getChatMember: (token, p) => {
    chatFor(p.chat_id);
    return chatMember(token, p.chat_id, p.user_id);
  },
  getChatAdministrators: (token, p) => {
    const { admins, creator } = chatAdmins(chatFor(p.chat_id).id);
    const ids = creator === null ? [...admins] : [String(creator), ...[...admins].filter((a) => a !== String(creator))];
    return ids.map((id) => chatMember(token, p.chat_id, id));
  },
  getChatMemberCount: (token, p) => (chatFor(p.chat_id).type === 'private' ? 2 : chatAdmins(p.chat_id).admins.size + 2),
  setMyCommands: setCommands,
  getMyCommands: (token, p) => (state.commands.get(commandKey(token, p)) || { commands: [] }).commands,
  deleteMyCommands: (token, p) => state.commands.delete(commandKey(token, p)) || true,
  sendChatAction: (token, p) => chatFor(p.chat_id) && true,
  deleteWebhook: (token, p) => {
    tg.deleteWebhook(token);
    if (p.drop_pending_updates) for (const u of pendingUpdates(token)) u.isRead = true;
    return true;
  },
  setWebhook: (token, p) => {
    if (!p.url) throw badRequest('bad webhook: an HTTPS URL must be provided for webhook');
    tg.setWebhook({ url: p.url }, token);
    return true;
  },
  getWebhookInfo: (token) => ({
    url: (tg.webhooks[token] || {}).url || '', has_custom_certificate: false,
    pending_update_count: pendingUpdates(token).length,
  }),
  logOut: () => true,
  close: () => true,
};
// Setters whose effect no test reads: accept them as Telegram does.
for (const name of ['setMyDescription', 'setMyShortDescription', 'setMyName', 'setChatMenuButton',
  'setMyDefaultAdministratorRights', 'pinChatMessage', 'unpinChatMessage', 'leaveChat']) {
  METHODS[name] = () => true;
}

// ----------------------------------------------------------------------- fault injection
const DEFAULT_DESCRIPTIONS = {
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden: bot was kicked from the group chat',
  404: 'Not Found', 409: 'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running',
  500: 'Internal Server Error', 502: 'Bad Gateway',
};

function takeFault(method, params) {
  const index = state.faults.findIndex((f) => (f.method === method || f.method === '*')
    && (f.chat_id == null || String(f.chat_id) === String(params.chat_id))
    && (f.parse_mode == null || String(f.parse_mode).toUpperCase() === String(params.parse_mode || '').toUpperCase()));
  if (index < 0) return null;
  const fault = state.faults[index];
  if (fault.count != null && --fault.count <= 0) state.faults.splice(index, 1);
  return fault;
}

function faultError(f) {
  const parameters = {};
  if (f.retry_after != null) parameters.retry_after = f.retry_after;
  if (f.migrate_to_chat_id != null) parameters.migrate_to_chat_id = f.migrate_to_chat_id;
  const description = f.description
    || (f.status === 429 ? `Too Many Requests: retry after ${f.retry_after ?? 1}` : DEFAULT_DESCRIPTIONS[f.status])
    || `Error ${f.status}`;
  return new ApiError(f.status, description, Object.keys(parameters).length ? parameters : undefined);
}

// ---------------------------------------------------------------------------- the server
const app = express();
app.disable('x-powered-by');
// Multipart (files) is kept raw and split below; JSON and forms are parsed before the emulator's
// own parsers, which then skip the already-read body.
app.use(express.raw({ type: 'multipart/form-data', limit: '60mb' }));
app.use(express.json({ limit: '10mb' }));
app.use(express.urlencoded({ extended: false, limit: '10mb' }));

function parseMultipart(buffer, contentType) {
  const m = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType || '');
  if (!m || !Buffer.isBuffer(buffer)) return {};
  const delimiter = Buffer.from(`--${m[1] || m[2]}`);
  const fields = {};
  let pos = buffer.indexOf(delimiter);
  while (pos !== -1) {
    const start = pos + delimiter.length + 2; // delimiter, then CRLF (or "--" at the end)
    const next = buffer.indexOf(delimiter, start);
    if (next === -1) break;
    const part = buffer.subarray(start, next - 2);
    const split = part.indexOf('\r\n\r\n');
    const headers = part.subarray(0, split).toString('utf8');
    const body = part.subarray(split + 4);
    const name = /[;\s]name="([^"]*)"/i.exec(headers);
    const filename = /filename="([^"]*)"/i.exec(headers);
    const type = /content-type:\s*([^\r\n]+)/i.exec(headers);
    if (name) {
      fields[name[1]] = filename
        ? { filename: filename[1], content_type: type ? type[1].trim() : undefined, data: body }
        : body.toString('utf8');
    }
    pos = next;
  }
  return fields;
}

function forLog(params) {
  const out = {};
  for (const [k, v] of Object.entries(params)) {
    out[k] = v && typeof v === 'object' && Buffer.isBuffer(v.data)
      ? { filename: v.filename, content_type: v.content_type, size: v.data.length } : v;
  }
  return out;
}

app.all(/^\/bot([^/]+)\/([A-Za-z]+)\/?$/, async (req, res) => {
  const token = req.params[0];
  const method = req.params[1];
  const body = Buffer.isBuffer(req.body) ? parseMultipart(req.body, req.headers['content-type']) : req.body;
  const params = normalizeParams({ ...req.query, ...body });
  const call = { seq: ++seq, token, method, params: forLog(params), time: Date.now() / 1000 };
  state.calls.push(call);
  let status = 200;
  let answer;
  try {
    const fault = takeFault(method, params);
    if (fault) call.fault = true;
    if (fault && fault.delay_ms) await new Promise((r) => setTimeout(r, fault.delay_ms));
    if (fault && fault.drop) {
      call.status = 0;
      console.log(`${method} dropped (injected)`);
      req.socket.destroy();
      return;
    }
    if (fault && fault.status) throw faultError(fault);
    const handler = METHODS[method];
    if (!handler) {
      throw new ApiError(500, `Internal Server Error: the Telegram emulator does not implement ${method}`
        + ' (add it to tests/e2e/emulator/server.js)');
    }
    answer = { ok: true, result: await handler(token, params, req, res) };
  } catch (error) {
    if (!(error instanceof ApiError)) {
      console.error(error);
      error = new ApiError(500, `Internal Server Error: ${error.message}`);
    }
    status = error.code;
    answer = { ok: false, error_code: error.code, description: error.message };
    if (error.parameters) answer.parameters = error.parameters;
  }
  call.status = status;
  call.response = answer;
  if (req.socket.destroyed) call.client_gone = true; // e.g. PTB cancelled a long poll, or a client timeout
  if (method !== 'getUpdates' || status !== 200 || answer.result.length) {
    console.log(`${method} ${status}${params.chat_id != null ? ` chat=${params.chat_id}` : ''}${status === 200 ? '' : ` ${answer.description}`}`);
  }
  if (!res.headersSent && !res.writableEnded) res.status(status).json(answer);
});

// ------------------------------------------------------------- a test acting as a user
// The emulator's client routes, completed: a Telegram-shaped chat and sender, the date in
// seconds, a bot_command entity for text starting with "/", and the new ids in the answer.
function userMessage(body) {
  const m = { ...body };
  if (!m.botToken) throw new Error('botToken is required');
  const chat = { ...chatFor(m.chat ? m.chat.id : m.chat_id), ...(m.chat || {}) };
  const from = { id: m.user_id ?? chat.id, is_bot: false, ...(m.from || {}) };
  from.first_name = from.first_name || `User ${from.id}`;
  if (chat.type !== 'private' && !chat.title) chat.title = `Group ${chat.id}`;
  if (chat.type === 'private' && !chat.first_name) chat.first_name = from.first_name;
  state.chats.set(String(chat.id), chat);
  state.users.set(String(from.id), from);
  delete m.chat_id;
  delete m.user_id;
  return { ...m, chat, from, date: m.date ?? Math.floor(Date.now() / 1000) };
}

function sendUser(req, res) {
  try {
    const m = userMessage(req.body);
    const command = /^\/[A-Za-z0-9_]{1,64}(@[A-Za-z0-9_]{3,64})?/.exec(m.text || '');
    if (command && !m.entities) m.entities = [{ type: 'bot_command', offset: 0, length: command[0].length }];
    const ids = { update_id: tg.updateId, message_id: tg.messageId };
    (m.entities ? tg.addUserCommand(m) : tg.addUserMessage(m)).catch((e) => console.error(e));
    tg.emit('newUserUpdate', m.botToken);
    console.log(`user ${m.from.id} in chat ${m.chat.id}: ${JSON.stringify(m.text)}`);
    res.json({ ok: true, result: ids });
  } catch (error) {
    res.status(400).json({ ok: false, description: error.message });
  }
}
app.post(['/sendMessage', '/sendCommand'], sendUser);

// A button press: {botToken, chat_id, message_id, data, user_id | from}. The pressed message is
// the bot's stored message as it is now (text and keyboard after edits).
app.post('/sendCallback', (req, res) => {
  const b = req.body;
  let message = b.message;
  if (!message) {
    const entry = findBotMessage(b.botToken, b.chat_id, b.message_id);
    if (!entry) {
      res.status(400).json({ ok: false, description: `no bot message ${b.message_id} in chat ${b.chat_id}` });
      return;
    }
    message = entry.tg;
  }
  const from = { id: b.user_id ?? message.chat.id, is_bot: false, ...(b.from || {}) };
  from.first_name = from.first_name || `User ${from.id}`;
  state.users.set(String(from.id), from);
  const ids = { update_id: tg.updateId, callback_query_id: String(tg.callbackId) };
  tg.addUserCallback({ botToken: b.botToken, from, message, data: b.data, chat_instance: b.chat_instance })
    .catch((e) => console.error(e));
  tg.emit('newUserUpdate', b.botToken);
  console.log(`user ${from.id} pressed ${JSON.stringify(b.data)} on message ${message.message_id}`);
  res.json({ ok: true, result: ids });
});

// --------------------------------------------------------------------------- control API
const control = express.Router();
control.get('/health', (req, res) => res.json({ ok: true, pid: process.pid }));
control.post('/reset', (req, res) => {
  for (const poller of pollers.values()) poller.finish('closed');
  state = freshState();
  tg.storage.userMessages = [];
  tg.storage.botMessages = [];
  tg.webhooks = {};
  res.json({ ok: true });
});
control.get('/calls', (req, res) => {
  const { method, token } = req.query;
  res.json({ ok: true, result: state.calls.filter((c) => (!method || c.method === method) && (!token || c.token === token)) });
});
control.get('/messages', (req, res) => {
  const { chat_id: chatId, token } = req.query;
  const result = tg.storage.botMessages
    .filter((u) => (!token || u.botToken === token) && (chatId == null || String(u.message.chat_id) === String(chatId)))
    .map((u) => ({ ...u.tg, parse_mode: u.message.parse_mode ?? null, raw_text: u.message.text ?? u.message.caption ?? null }));
  res.json({ ok: true, result });
});
control.get('/commands', (req, res) => {
  const prefix = req.query.token ? `${req.query.token}|` : '';
  res.json({ ok: true, result: [...state.commands].filter(([k]) => k.startsWith(prefix)).map(([, v]) => v) });
});
control.post('/admins', (req, res) => {
  const { chat_id: chatId, user_ids: userIds = [], creator_id: creator = null } = req.body;
  state.admins.set(String(chatId), { admins: new Set(userIds.map(String)), creator: creator === null ? null : String(creator) });
  res.json({ ok: true });
});
control.get('/faults', (req, res) => res.json({ ok: true, result: state.faults }));
control.delete('/faults', (req, res) => {
  state.faults = [];
  res.json({ ok: true });
});
control.post('/faults', (req, res) => {
  const f = { count: 1, ...req.body };
  if (!f.method || !(f.status || f.drop || f.delay_ms)) {
    res.status(400).json({ ok: false, description: 'a fault needs method and one of status, drop, delay_ms' });
    return;
  }
  state.faults.push(f);
  res.json({ ok: true, result: f });
});
control.get('/files/:fileId', (req, res) => {
  const file = state.files.get(req.params.fileId);
  if (!file) res.status(404).json({ ok: false, description: 'no such file' });
  else res.type(file.mime_type || 'application/octet-stream').send(file.data);
});
app.use('/control', control);

// Everything else (the emulator's /getUpdates and /getUpdatesHistory for the test client).
app.use(tg.webServer);

const server = http.createServer(app);
// Let clients (httpx keeps idle connections 5 s) close idle connections first: a server closing
// one just as a client reuses it makes "Server disconnected" flakes.
server.keepAliveTimeout = 65000;
server.headersTimeout = 66000;
server.listen(port, HOST, () => {
  const actual = server.address().port;
  if (args['port-file']) {
    fs.writeFileSync(`${args['port-file']}.tmp`, String(actual));
    fs.renameSync(`${args['port-file']}.tmp`, args['port-file']);
  }
  console.log(`telegram emulator (telegram-test-api ${require('telegram-test-api/package.json').version}) on http://${HOST}:${actual}, pid ${process.pid}`);
});

const stop = () => process.exit(0);
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
if (args['parent-pid']) {
  // Never outlive the test run, even when pytest is killed without a teardown.
  setInterval(() => {
    try {
      process.kill(Number(args['parent-pid']), 0);
    } catch {
      stop();
    }
  }, 1000).unref();
}
