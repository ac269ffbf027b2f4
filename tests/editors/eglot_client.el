;;; eglot_client.el --- Real Emacs + eglot as an LSP client of ManySkills -*- lexical-binding: t -*-
;;
;; Driven by tests/editors/test_eglot.py:  emacs --batch -Q -l tests/editors/eglot_client.el
;;
;; Loads the README's "Emacs (eglot)" snippet verbatim (MANYSKILLS_EMACS_CONFIG), with one test hook:
;; the `:manyskills' section of `eglot-workspace-configuration' gets the test's values (threshold 0,
;; tiny model).  Then it opens the seeded file, starts eglot the way `eglot-ensure' does, waits for
;; flymake diagnostics, lists code actions (`eglot-code-actions' -> textDocument/codeAction), runs
;; "Explain" and "ignore here" as `M-x eglot-code-actions' would (the pick is scripted), waits
;; until the ignored line is no longer flagged, and searches with `xref-find-apropos' (which eglot
;; answers with workspace/symbol).  Everything goes to MANYSKILLS_RESULT as JSON; a failure is
;; recorded there as `error'.  Emacs always exits; pytest also kills it on timeout.

(require 'cl-lib)
(require 'json)
(require 'subr-x)

(dolist (dir (file-expand-wildcards "/usr/share/emacs/site-lisp/elpa/*"))  ; Debian's elpa-eglot & deps
  (add-to-list 'load-path dir))

(defvar ms-result nil "Alist written as JSON at the end.")
(defvar ms-messages nil "window/showMessage texts, newest first.")
(defvar ms-start (float-time))
(defvar ms-timeout (/ (string-to-number (or (getenv "MANYSKILLS_TIMEOUT_MS") "30000")) 1000.0))
;; Resolving a note generates text with the real model, and the first description scans the workspace:
;; seconds on a busy 2-core CPU, more than jsonrpc's default 10 s request timeout.  jsonrpc declares
;; that default with `defconst', so it is set once jsonrpc is loaded (by eglot), not before.
(with-eval-after-load 'jsonrpc
  (setq jsonrpc-default-request-timeout ms-timeout))
;; Likewise the server's first answer: importing the model stack can take over eglot's 30 s there.
(setq eglot-connect-timeout ms-timeout)

(defun ms-put (key value) (setq ms-result (cons (cons key value) (assq-delete-all key ms-result))))
(defun ms-mark (step) (ms-put step (round (* 1000 (- (float-time) ms-start)))))

(defun ms-wait (pred &optional timeout)
  "Process server output until PRED holds or TIMEOUT seconds pass; return PRED's last value."
  (let ((deadline (+ (float-time) (or timeout ms-timeout))) value)
    (while (and (not (setq value (funcall pred))) (< (float-time) deadline))
      (accept-process-output nil 0.05))
    value))

(defun ms-diagnostics ()
  "ManySkills flymake diagnostics of the current buffer as ((line . L) (text . T)), L 0-based."
  (sort (cl-loop for d in (flymake-diagnostics)
                 for text = (flymake-diagnostic-text d)
                 when (string-prefix-p "manyskills" text)
                 collect `((line . ,(1- (line-number-at-pos (flymake-diagnostic-beg d))))
                           (text . ,text)))
        (lambda (a b) (< (alist-get 'line a) (alist-get 'line b)))))

(defun ms-line (line)
  (save-excursion
    (goto-char (point-min))
    (forward-line line)
    (buffer-substring-no-properties (line-beginning-position) (line-end-position))))

(defun ms-run-action (server actions title-prefix)
  "Run the code action starting with TITLE-PREFIX through eglot's own code-action menu."
  (let ((title (cl-loop for a in actions for title = (plist-get a :title)
                        when (string-prefix-p title-prefix title) return title)))
    (unless title (error "No code action %S" title-prefix))
    (cl-letf (((symbol-function 'completing-read) (lambda (&rest _) title)))
      (let ((last-nonmenu-event ?\r))  ; a keyboard pick (completing-read), not a mouse menu
        (eglot--read-execute-code-action actions server)))))

(defun ms-apropos (query)
  "Run `xref-find-apropos' (C-M-.) for QUERY the way a user does; return its matches in order.
The xref display function is the documented hook for how matches are shown: it gets them here
instead of an *xref* buffer."
  (let* ((matches nil)
         (xref-show-xrefs-function (lambda (fetcher _alist) (setq matches (funcall fetcher)))))
    (xref-find-apropos query)
    (vconcat
     (mapcar (lambda (match)
               (let ((summary (substring-no-properties (xref-item-summary match)))
                     (location (xref-item-location match)))
                 ;; eglot shows the function's first line as the summary, not the symbol's name.
                 `((name . ,(if (string-match "def \\([[:alnum:]_]+\\)" summary) (match-string 1 summary) summary))
                   (text . ,summary)
                   (file . ,(xref-location-group location))
                   (line . ,(xref-location-line location)))))
             matches))))

(defun ms-code-action-steps (server)
  "Code actions on the first flagged line (what `M-x eglot-code-actions' requests there): run
\"Explain\" and \"ignore here\", then wait for the re-analysis."
  (let* ((line (alist-get 'line (car (ms-diagnostics))))
         (text (ms-line line))
         (beg (save-excursion (goto-char (point-min)) (forward-line line) (point)))
         (end (save-excursion (goto-char beg) (line-end-position)))
         (actions (eglot-code-actions beg end)))
    (ms-put 'flagged_line line)
    (ms-put 'flagged_text text)
    (ms-put 'action_titles (vconcat (mapcar (lambda (a) (plist-get a :title)) actions)))
    (ms-put 'action_commands
            (vconcat (mapcar (lambda (a) (or (plist-get (plist-get a :command) :command) "")) actions)))
    (ms-mark 'code_actions_ms)

    ;; eglot 1.9 has no codeAction/resolve: "Explain" carries manyskills.showNote, which the server
    ;; answers with window/showMessage.
    (ms-run-action server actions "ManySkills: Explain")
    (ms-wait (lambda () ms-messages) 20)
    (ms-put 'explain_messages (vconcat (reverse ms-messages)))
    (ms-mark 'explain_ms)

    ;; "ignore here" carries its edit; eglot applies it to the buffer.
    (ms-run-action server actions "ManySkills: ignore here")
    (ms-put 'final_line (ms-line line))
    ;; eglot sends didChange from an idle timer, which never fires in --batch: send it now.
    (eglot--signal-textDocument/didChange)
    (ms-put 'unflagged
            (if (ms-wait (lambda ()
                           (let ((diags (ms-diagnostics)))
                             (and diags (not (cl-find line diags :key (lambda (d) (alist-get 'line d))))))))
                t :json-false))
    (ms-put 'diagnostics_after (vconcat (ms-diagnostics)))
    (ms-mark 'unflagged_ms)))

(defun ms-main ()
  (let* ((file (getenv "MANYSKILLS_FILE"))
         (settings (json-parse-string (getenv "MANYSKILLS_SETTINGS")
                                      :object-type 'plist :false-object :json-false)))
    (load (getenv "MANYSKILLS_EMACS_CONFIG") nil t)  ; the README snippet, as in an init file
    (require 'eglot)
    ;; Test hook: keep the README's configuration, with the test's values under :manyskills.
    (let ((conf (copy-tree (default-value 'eglot-workspace-configuration))))
      (ms-put 'readme_has_manyskills_section (if (plist-member conf :manyskills) t :json-false))
      (setq-default eglot-workspace-configuration (plist-put conf :manyskills settings)))
    (cl-defmethod eglot-handle-notification :before
      (_server (_method (eql window/showMessage)) &key message &allow-other-keys)
      (push message ms-messages))

    (find-file file)
    (ms-put 'major_mode (symbol-name major-mode))
    ;; What `(add-hook 'python-mode-hook #'eglot-ensure)' does, then the end of the first command.
    (eglot-ensure)
    (run-hooks 'post-command-hook)
    (unless (ms-wait (lambda () (eglot-current-server)))
      (error "eglot did not connect"))
    (let ((server (eglot-current-server))
          (expected (string-to-number (or (getenv "MANYSKILLS_EXPECTED_DIAGNOSTICS") "1"))))
      (ms-put 'server_command (process-command (jsonrpc--process server)))
      (ms-mark 'connected_ms)
      (ms-wait (lambda () (>= (length (ms-diagnostics)) expected)))
      (ms-put 'diagnostics (vconcat (ms-diagnostics)))
      (unless (>= (length (ms-diagnostics)) expected)
        (error "No ManySkills flymake diagnostics in time (got %d)" (length (ms-diagnostics))))
      (ms-mark 'diagnostics_ms)

      (if-let ((queries (getenv "MANYSKILLS_SYMBOL_QUERIES")))
          ;; The workspace/symbol scenario: the model is ready (the file is analysed); search.
          (progn (ms-put 'symbols (cl-loop for query across (json-parse-string queries)
                                           collect (cons (intern query) (ms-apropos query))))
                 (ms-mark 'symbols_ms))
        (ms-code-action-steps server))
      (ms-put 'messages (vconcat (reverse ms-messages)))
      (let ((eglot-autoshutdown nil))
        (ignore-errors (eglot-shutdown server)))
      (ms-mark 'stopped_ms))))

(defun ms-server-logs ()
  (when-let ((server (ignore-errors (eglot-current-server))))
    (with-current-buffer (jsonrpc-stderr-buffer server)
      (buffer-substring-no-properties (max (point-min) (- (point-max) 4000)) (point-max)))))

(let ((ok t))
  (condition-case err
      (ms-main)
    (error (setq ok nil)
           (ms-put 'error (error-message-string err))
           (ms-put 'server_stderr (or (ignore-errors (ms-server-logs)) ""))))
  (with-temp-file (getenv "MANYSKILLS_RESULT")
    (insert (json-encode ms-result)))
  (kill-emacs (if ok 0 3)))

;;; eglot_client.el ends here
