-- Real Neovim (0.7+) as an LSP client of ManySkills, driven headless by tests/editors/test_neovim.py:
--   nvim --headless -u NONE -c 'luafile tests/editors/neovim_client.lua'
--
-- It loads the README's "Neovim 0.7–0.10" snippet verbatim (MANYSKILLS_NVIM_CONFIG), with one test
-- hook: `vim.lsp.start_client` is wrapped so that the snippet's `settings` are swapped for the test's
-- (threshold 0, tiny model). Then it opens the seeded file, waits for diagnostics, lists and
-- resolves code actions, applies "ignore here" and waits until that line is no longer flagged. With
-- MANYSKILLS_SYMBOL_QUERIES set it instead searches the workspace with vim.lsp.buf.workspace_symbol
-- once the file is analysed.
-- Everything it saw goes to MANYSKILLS_RESULT as JSON; any failure is recorded there as `error`.
-- It always ends the editor (qa! on success, cquit on failure); pytest also kills it on timeout.

local env = vim.env
local result_path = env.MANYSKILLS_RESULT
local file = env.MANYSKILLS_FILE
local config_path = env.MANYSKILLS_NVIM_CONFIG
local settings = vim.fn.json_decode(env.MANYSKILLS_SETTINGS)
local timeout = tonumber(env.MANYSKILLS_TIMEOUT_MS or '30000')
local clock = vim.loop.hrtime
local get_clients = vim.lsp.get_clients or vim.lsp.get_active_clients -- 0.10 renamed it

local result = { steps = {}, messages = {}, notifications = {}, timings_ms = {} }
if env.MANYSKILLS_NVIM_LOG_LEVEL then
  vim.lsp.set_log_level(env.MANYSKILLS_NVIM_LOG_LEVEL) -- full JSON-RPC traffic in lsp.log
end
local started = clock()

local function mark(step)
  table.insert(result.steps, step)
  result.timings_ms[step] = math.floor((clock() - started) / 1e6)
end

local function write_result()
  local f = assert(io.open(result_path, 'w'))
  f:write(vim.fn.json_encode(result))
  f:close()
end

-- Record window/showMessage (settings errors, model load failures) instead of printing them.
local show_message = vim.lsp.handlers['window/showMessage']
vim.lsp.handlers['window/showMessage'] = function(err, params, ctx, config)
  table.insert(result.messages, params and params.message or vim.inspect(err))
  return show_message(err, params, ctx, config)
end

-- Record $/progress (model loading) messages: they say which model the server is loading.
local progress = vim.lsp.handlers['$/progress']
vim.lsp.handlers['$/progress'] = function(err, params, ctx, config)
  local value = params and params.value or {}
  table.insert(result.messages, (value.title or '') .. ' ' .. (value.message or ''))
  return progress(err, params, ctx, config)
end

-- Record vim.notify too: Neovim 0.7 reports "No symbols found" (and request errors) that way.
local notify = vim.notify
vim.notify = function(msg, level, opts)
  table.insert(result.notifications, tostring(msg))
  return notify(msg, level, opts)
end

-- Remember the document version of each publishDiagnostics, to know when a change has been analysed.
local published_version = {}
local publish = vim.lsp.handlers['textDocument/publishDiagnostics']
vim.lsp.handlers['textDocument/publishDiagnostics'] = function(err, params, ctx, config)
  if params and params.version then
    published_version[params.uri] = params.version
  end
  return publish(err, params, ctx, config)
end

-- Test hook: wherever the README snippet passes `manyskills` values (settings, init_options), the
-- test's values replace them; everything else (cmd, root_dir, which fields exist) is as written.
local client_id
local start_calls = 0
local real_start_client = vim.lsp.start_client
vim.lsp.start_client = function(config)
  start_calls = start_calls + 1
  for _, field in ipairs({ 'settings', 'init_options' }) do
    if type(config[field]) == 'table' and config[field].manyskills ~= nil then
      config[field].manyskills = settings
      result['passes_' .. field] = true
    end
  end
  result.cmd = config.cmd
  client_id = real_start_client(config)
  return client_id
end

local function manyskills_diagnostics(bufnr)
  local out = {}
  for _, d in ipairs(vim.diagnostic.get(bufnr)) do
    if d.source == 'manyskills' then
      table.insert(out, d)
    end
  end
  table.sort(out, function(a, b) return a.lnum < b.lnum end)
  return out
end

local function request_sync(bufnr, method, params)
  local responses, err = vim.lsp.buf_request_sync(bufnr, method, params, timeout)
  assert(responses, method .. ' failed: ' .. tostring(err))
  local response = responses[client_id]
  assert(response, method .. ': no response from the manyskills client')
  assert(not response.err, method .. ' error: ' .. vim.inspect(response.err))
  return response.result
end

-- workspace/symbol as a user runs it: `:lua vim.lsp.buf.workspace_symbol(query)` (what a keymap
-- sends; Telescope's lsp_workspace_symbols sends the same request), whose handler fills the quickfix
-- list and opens it. Records, per query, the quickfix items in order.
local function search_symbols(queries)
  result.symbols = {}
  for _, query in ipairs(queries) do
    local title = string.format("Symbols matching '%s'", query)
    local seen = #result.notifications
    vim.lsp.buf.workspace_symbol(query)
    vim.wait(timeout, function()
      return vim.fn.getqflist({ title = 0 }).title == title or #result.notifications > seen
    end, 50)
    local found = {}
    if vim.fn.getqflist({ title = 0 }).title == title then
      for _, item in ipairs(vim.fn.getqflist()) do
        table.insert(found, {
          name = item.text:match('^%[%a+%] (.*)$') or item.text, text = item.text,
          file = vim.api.nvim_buf_get_name(item.bufnr), line = item.lnum,
        })
      end
    end
    result.symbols[query] = found
    vim.cmd('cclose') -- back to the Python buffer's window for the next query
    mark('symbols: ' .. query)
  end
end

local function stop_clients()
  for _, client in ipairs(get_clients()) do
    client.stop()
  end
  vim.wait(5000, function() return #get_clients() == 0 end, 50)
  mark('stopped')
end

local function main()
  vim.cmd('filetype on') -- -u NONE: the snippet's FileType autocmd needs filetype detection
  dofile(config_path)
  vim.cmd('edit ' .. vim.fn.fnameescape(file))
  local bufnr = vim.api.nvim_get_current_buf()
  result.filetype = vim.bo[bufnr].filetype
  assert(client_id, 'the README snippet did not start a client (FileType autocmd did not fire?)')
  mark('client_started')

  local attached = vim.wait(timeout, function()
    local client = vim.lsp.get_client_by_id(client_id)
    return client ~= nil and client.initialized == true
  end, 50)
  assert(attached, 'server did not initialize in time')
  mark('initialized')

  local expected = tonumber(env.MANYSKILLS_EXPECTED_DIAGNOSTICS or '1')
  local ok = vim.wait(timeout, function() return #manyskills_diagnostics(bufnr) >= expected end, 50)
  local diags = manyskills_diagnostics(bufnr)
  result.diagnostics = {}
  for _, d in ipairs(diags) do
    table.insert(result.diagnostics, {
      lnum = d.lnum, col = d.col, end_lnum = d.end_lnum, end_col = d.end_col, message = d.message,
      code = d.code, severity = d.severity, ['function'] = d.user_data.lsp.data['function'],
    })
  end
  assert(ok, 'no ManySkills diagnostics in time (got ' .. #diags .. ')')
  mark('diagnostics')

  -- The workspace/symbol scenario: the model is ready (the file is analysed); search, then stop.
  if env.MANYSKILLS_SYMBOL_QUERIES then
    search_symbols(vim.fn.json_decode(env.MANYSKILLS_SYMBOL_QUERIES))
    stop_clients()
    return
  end

  -- Code actions at the first flagged line, as vim.lsp.buf.code_action() would ask for them.
  local diag = diags[1]
  local line = diag.lnum
  result.flagged_line = line
  result.flagged_text = vim.api.nvim_buf_get_lines(bufnr, line, line + 1, true)[1]
  local actions = request_sync(bufnr, 'textDocument/codeAction', {
    textDocument = { uri = vim.uri_from_bufnr(bufnr) },
    range = { start = { line = line, character = 0 }, ['end'] = { line = line, character = 0 } },
    context = { diagnostics = vim.lsp.diagnostic.get_line_diagnostics
      and vim.lsp.diagnostic.get_line_diagnostics(bufnr, line, {}, client_id) or {} },
  }) or {}
  result.action_titles = {}
  for _, a in ipairs(actions) do
    table.insert(result.action_titles, a.title)
  end
  mark('code_actions')

  local function find(prefix)
    for _, a in ipairs(actions) do
      if a.title:sub(1, #prefix) == prefix then
        return a
      end
    end
  end

  -- Neovim advertises resolveSupport {'edit'}: "Explain" comes back lazy and is resolved on demand.
  local explain = assert(find('ManySkills: Explain'), 'no Explain action')
  result.explain_lazy = explain.command == nil and explain.edit == nil
  local resolved = request_sync(bufnr, 'codeAction/resolve', explain)
  result.resolved = {
    title = resolved.title,
    command = resolved.command and resolved.command.command,
    message = resolved.command and resolved.command.arguments and resolved.command.arguments[1]
      and resolved.command.arguments[1].message,
  }
  mark('resolve')

  -- "ignore here" carries its edit eagerly; apply it the way the client does (utf-16 offsets).
  local ignore = assert(find('ManySkills: ignore here'), 'no "ignore here" action')
  local tick = vim.api.nvim_buf_get_changedtick(bufnr)
  vim.lsp.util.apply_workspace_edit(ignore.edit, vim.lsp.get_client_by_id(client_id).offset_encoding)
  result.changed = vim.api.nvim_buf_get_changedtick(bufnr) > tick
  result.final_line = vim.api.nvim_buf_get_lines(bufnr, line, line + 1, true)[1]
  mark('ignore_applied')

  -- The edit goes out as textDocument/didChange; the server re-publishes without that line.
  local function line_flagged()
    for _, d in ipairs(manyskills_diagnostics(bufnr)) do
      if d.lnum == line then
        return true
      end
    end
    return false
  end
  local uri = vim.uri_from_bufnr(bufnr)
  local version = vim.api.nvim_buf_get_changedtick(bufnr) -- what Neovim sends as the didChange version
  result.unflagged = vim.wait(timeout, function()
    return (published_version[uri] or -1) >= version and not line_flagged()
  end, 50)
  result.published_version = published_version[uri]
  result.edited_version = version
  result.diagnostics_after = {}
  for _, d in ipairs(manyskills_diagnostics(bufnr)) do
    table.insert(result.diagnostics_after, { lnum = d.lnum, message = d.message })
  end
  mark('unflagged')

  -- A second Python file: the snippet must attach it to the same server, not start another one.
  if env.MANYSKILLS_SECOND_FILE then
    local first_client = client_id
    vim.cmd('edit ' .. vim.fn.fnameescape(env.MANYSKILLS_SECOND_FILE))
    local second = vim.api.nvim_get_current_buf()
    vim.wait(timeout, function() return #manyskills_diagnostics(second) >= 1 end, 50)
    result.second_file = {
      start_client_calls = start_calls,
      same_client = client_id == first_client,
      active_clients = #get_clients(),
      diagnostics = #manyskills_diagnostics(second),
    }
    mark('second_file')
  end

  stop_clients()
end

local ok, err = xpcall(main, debug.traceback)
if not ok then
  result.error = tostring(err)
end
local wrote, write_err = pcall(write_result)
if ok and wrote then
  vim.cmd('qa!')
else
  if not wrote then
    io.stderr:write('could not write result: ' .. tostring(write_err) .. '\n')
  end
  io.stderr:write(tostring(err) .. '\n')
  vim.cmd('cquit 3')
end
