"""Every signal family shipped in policies/default.yml: a line that must match, a near miss that must not.

The near misses are the reason for masking: a call in a comment or a string, the safe variant of an
API (``yaml.safe_load``), a look-alike name. A near miss must reach no family at all.
"""

from __future__ import annotations

import pytest

from reviewbot.diff import guess_language
from reviewbot.models import DiffLine, FileStatus, Hunk, Lane, hunk_id
from reviewbot.policy import load_policy
from reviewbot.router import Router

ROUTER = Router(load_policy(None, cwd=__import__("pathlib").Path("/nonexistent"), env={}))

EXT = {"python": "py", "js": "js", "go": "go", "java": "java", "c": "c", "ruby": "rb", "php": "php", "shell": "sh"}

# (family route, line that must match, near miss that must not match any family)
CASES = [
    ("python-process-exec", "subprocess.run(cmd, check=True)", "# subprocess.run(cmd) is not used here"),
    ("python-process-exec", "os.system(cmd)", 'log.info("os.system(cmd) refused")'),
    ("python-dynamic-eval", "result = eval(expr)", "result = literal_eval(expr)"),
    ("python-deserialisation", "obj = pickle.loads(blob)", "obj = pickled_count(blob)"),
    ("python-deserialisation", "data = yaml.load(stream)", "data = yaml.safe_load(stream)"),
    (
        "python-sql-strings",
        'cur.execute("SELECT * FROM users WHERE id = %s" % user_id)',
        'cur.execute("SELECT * FROM users WHERE id = %s", (user_id,))',
    ),
    ("python-template-escaping", "env = Environment(autoescape=False)", "env = Environment(autoescape=True)"),
    ("python-file-paths", "target = os.path.normpath(os.path.join(root, name))", "target = os.path.join(root, name)"),
    ("python-temp-files-permissions", "os.chmod(path, 0o777)", "os.listdir(path)"),
    ("python-redirects-urls", "parts = urlsplit(next_url)", 'parts = next_url.split("/")'),
    ("python-tls-verification", "requests.get(url, verify=False)", "requests.get(url, verify=True)"),
    ("python-secrets-randomness", "code = random.randint(100000, 999999)", "code = rng_table.randint_seed"),
    ("python-authn-authz", "if not user.is_authenticated:", "if not user.is_active:"),
    ("python-http-framing", 'length = int(headers["Content-Length"])', 'length = int(headers["X-Count"])'),
    ("python-regex-redos", 'NAME_RE = re.compile(r"(a+)+$")', "name = value.strip()"),
    ("python-request-input", 'name = request.args.get("name")', "name = request_args_cache.get(key)"),
    ("python-limits", "if len(body) > max_body_size:", "if len(body) > 10:"),
    ("js-process-exec", "const out = execSync(cmd)", "const m = pattern.exec(text)"),
    ("js-dynamic-eval", 'const fn = new Function("a", body)', "const fn = createFunction(body)"),
    ("js-deserialisation", "const obj = unserialize(data)", "const obj = JSON.parse(data)"),
    (
        "js-sql-strings",
        'db.query("SELECT * FROM t WHERE id = " + id)',
        'db.query("SELECT * FROM t WHERE id = ?", [id])',
    ),
    ("js-html-escaping", "el.innerHTML = html", "el.textContent = html"),
    ("js-file-paths", "const full = path.resolve(root, name)", "const full = path.join(root, name)"),
    ("js-redirects-urls", "res.redirect(req.query.next)", "res.render(req.query.view)"),
    (
        "js-tls-verification",
        "const agent = new https.Agent({ rejectUnauthorized: false })",
        "const agent = new https.Agent({ keepAlive: false })",
    ),
    ("js-secrets-randomness", "const id = Math.random().toString(36)", "const id = Math.floor(x)"),
    ("js-authn-authz", "if (!req.isAuthenticated()) return next()", "if (!req.isReady()) return next()"),
    ("js-prototype-pollution", "target[key] = source[key]", "target.count = source.count"),
    ("js-prototype-pollution", "if (name === '__proto__') return", "if (name === 'proto count') return"),
    ("js-regex-redos", "const re = /^(a+)+$/", "const ratio = a / b / c"),
    ("js-limits", "if (depth > maxDepth) throw err", "if (count > total) throw err"),
    ("go-process-exec", 'cmd := exec.Command("sh", "-c", input)', "cmd := parser.Command(input)"),
    ("go-dynamic-code", "out := template.HTML(userInput)", "out := html.EscapeString(userInput)"),
    ("go-deserialisation", "dec := gob.NewDecoder(conn)", "dec := json.NewDecoder(conn)"),
    (
        "go-sql-strings",
        'q := fmt.Sprintf("SELECT * FROM t WHERE id = %s", id)',
        'rows, err := db.Query("SELECT * FROM t WHERE id = $1", id)',
    ),
    ("go-file-paths", "p := filepath.Join(root, name)", 'p := strings.Join(parts, "/")'),
    ("go-redirects-urls", "http.Redirect(w, r, next, http.StatusFound)", "http.Error(w, msg, http.StatusBadRequest)"),
    ("go-tls-verification", "cfg := &tls.Config{InsecureSkipVerify: true}", "cfg := &http.Client{Timeout: t}"),
    ("go-secrets-randomness", "n := rand.Intn(10)", "n := len(items)"),
    ("go-authn-authz", "if !isAuthorized(r) {", "if !isReady(r) {"),
    ("go-regex", "re := regexp.MustCompile(pattern)", "s := strings.TrimSpace(pattern)"),
    ("go-bounds", "buf := make([]byte, n)", "buf := make([]byte, 64)"),
    ("java-process-exec", "Process p = Runtime.getRuntime().exec(cmd);", "Runtime rt = Runtime.getRuntime();"),
    ("java-dynamic-eval", "Class<?> c = Class.forName(name);", "Class<?> c = obj.getClass();"),
    (
        "java-deserialisation",
        "ObjectInputStream in = new ObjectInputStream(stream);",
        "DataInputStream in = new DataInputStream(stream);",
    ),
    (
        "java-sql-strings",
        'stmt.executeQuery("SELECT * FROM t WHERE id = " + id);',
        'PreparedStatement ps = conn.prepareStatement("SELECT * FROM t WHERE id = ?");',
    ),
    ("java-template-escaping", "String s = StringEscapeUtils.escapeHtml4(x);", "String s = StringUtils.capitalize(x);"),
    ("java-file-paths", "File f = new File(base, name);", "List<String> f = new ArrayList<>();"),
    ("java-redirects-urls", "response.sendRedirect(next);", "response.setStatus(302);"),
    ("java-tls-verification", "HostnameVerifier hv = (h, s) -> true;", "String hv = host.trim();"),
    ("java-secrets-randomness", "Random r = new Random();", "Random r = pool.next();"),
    ("java-authn-authz", "@PreAuthorize(\"hasRole('ADMIN')\")", "@Override"),
    ("java-regex", "Pattern p = Pattern.compile(expr);", "String p = expr.trim();"),
    ("c-memory-bounds", "memcpy(dst, src, n);", "/* memcpy(dst, src, n); */"),
    ("c-size-arithmetic", "if(len > max) return NULL;", "if(done) return NULL;"),
    ("c-process-exec", "system(cmdline);", "systemd_notify(state);"),
    ("c-tls-verification", "SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);", "SSL_CTX_free(ctx);"),
    ("c-file-paths", "fd = open(path, O_RDONLY);", "fd = reopen_log(path);"),
    ("c-secrets-randomness", "nonce = rand();", "nonce = next_id();"),
    ("c-authn-credentials", "co->domain = cookie_domain;", "co->domain = host_domain;"),
    ("ruby-process-exec", 'system("tar", "-xf", path)', "log_system_info(path)"),
    ("ruby-dynamic-eval", "obj.public_send(name, value)", "obj.update(name, value)"),
    ("ruby-deserialisation", "data = YAML.load(body)", "data = YAML.safe_load(body)"),
    (
        "ruby-sql-strings",
        "User.find_by_sql(\"SELECT * FROM users WHERE name = '#{name}'\")",
        "User.where(name: name)",
    ),
    ("ruby-template-escaping", "output.html_safe", "output.strip"),
    ("ruby-file-paths", "File.read(params[:file])", "Hash.new(params[:file])"),
    ("ruby-redirects-urls", "redirect_to params[:return_to]", "render params[:view]"),
    ("ruby-tls-verification", "http.verify_mode = OpenSSL::SSL::VERIFY_NONE", "http.read_timeout = 5"),
    ("ruby-secrets-randomness", "token = rand(10**6)", "token = brand(10)"),
    ("ruby-authn-authz", "skip_before_action :verify_authenticity_token", "after_commit :notify"),
    ("ruby-regex", "if input =~ /^[a-z]+$/", "if input == other"),
    ("php-process-exec", "$out = shell_exec($cmd);", "$out = shell_escape_arg($cmd);"),
    ("php-dynamic-eval", "eval($code);", "evaluate_rules($code);"),
    ("php-deserialisation", "$obj = unserialize($data);", "$obj = json_decode($data);"),
    (
        "php-sql-strings",
        '$q = "SELECT * FROM t WHERE id = " . $id;',
        '$stmt = $pdo->prepare("SELECT * FROM t WHERE id = ?");',
    ),
    ("php-template-escaping", "echo $name;", "echo htmlspecialchars($name);"),
    ("php-user-input", "$id = $_GET['id'];", "$id = $params['id'];"),
    ("php-redirects-urls", 'header("Location: " . $next);', "headers_list();"),
    (
        "php-tls-verification",
        "curl_setopt($ch, CURLOPT_SSL_VERIFYPEER, false);",
        "curl_setopt($ch, CURLOPT_TIMEOUT, 5);",
    ),
    ("php-secrets-randomness", "$token = mt_rand();", "$token = random_bytes(16);"),
    ("php-authn-authz", "if (!current_user_can('edit_posts')) {", "if (!current_theme_supports('menus')) {"),
    ("php-regex", "preg_match($pattern, $input);", "str_contains($input, $needle);"),
    ("shell-dynamic-eval", 'eval "$cmd"', '# eval "$cmd"'),
    (
        "shell-remote-code",
        "curl -fsSL https://example.com/install.sh | sh",
        "curl -fsSL https://example.com/install.sh -o install.sh",
    ),
    ("shell-tls-verification", "curl -k https://example.com", "curl -s https://example.com"),
    ("shell-permissions", "chmod 777 /srv/data", "chmod 755 /srv/data"),
    ("shell-unquoted-deletes", "rm -rf $BUILD_DIR/", 'rm -rf "$BUILD_DIR/"'),
]


def hunk_of(path: str, added: str, context: tuple[str, ...] = ()) -> Hunk:
    lines = tuple(DiffLine(" ", text, i + 1, i + 1) for i, text in enumerate(context))
    lines += (DiffLine("+", added, None, len(context) + 1),)
    body = "".join(f"{ln.kind}{ln.text}\n" for ln in lines)
    header = f"@@ -1,{len(context)} +1,{len(lines)} @@"
    return Hunk(
        id=hunk_id(path, header, body),
        path=path,
        old_path=None,
        status=FileStatus.MODIFIED,
        old_start=1,
        old_len=len(context),
        new_start=1,
        new_len=len(lines),
        section="",
        lines=lines,
        commentable=frozenset(range(1, len(lines) + 1)),
        language=guess_language(path),
    )


def path_for(family: str) -> str:
    return f"pkg/core/mod.{EXT[family.split('-', 1)[0]]}"


@pytest.mark.parametrize(("family", "hit", "miss"), CASES, ids=[f"{c[0]}:{c[1][:30]}" for c in CASES])
def test_family_matches_its_line_and_not_its_near_miss(family: str, hit: str, miss: str) -> None:
    path = path_for(family)
    route = ROUTER.route_hunk(hunk_of(path, hit))
    assert (route.lane, route.rule, route.matched_line) == (Lane.SECURITY, family, hit)
    near = ROUTER.route_hunk(hunk_of(path, miss))
    assert (near.lane, near.rule, near.matched_line) == (Lane.GENERAL, "default", None), near


def test_every_shipped_family_has_a_case() -> None:
    shipped = {rule.name for rule in ROUTER.policy.routes if rule.content}
    assert shipped == {family for family, _, _ in CASES}


@pytest.mark.parametrize("family", sorted({c[0] for c in CASES}))
def test_families_leave_test_code_to_the_general_lane(family: str) -> None:
    hit = next(h for f, h, _ in CASES if f == family)
    ext = EXT[family.split("-", 1)[0]]
    route = ROUTER.route_hunk(hunk_of(f"pkg/tests/mod.{ext}", hit))
    assert route.lane is Lane.GENERAL


def test_families_do_not_apply_to_other_languages() -> None:
    # Python's eval family does not read a Go file, and Go's does not read Python.
    assert ROUTER.route_hunk(hunk_of("pkg/core/mod.go", "result = eval(expr)")).lane is Lane.GENERAL
    assert ROUTER.route_hunk(hunk_of("pkg/core/mod.py", "buf := make([]byte, n)")).lane is Lane.GENERAL


def test_a_call_inside_a_docstring_the_hunk_starts_in_is_not_code() -> None:
    context = ("    Never call subprocess.run(cmd) with a shell here.",)
    hunk = hunk_of("pkg/core/mod.py", '    """', context)
    assert ROUTER.route_hunk(hunk).lane is Lane.GENERAL
    closing = hunk_of("pkg/core/mod.py", "subprocess.run(cmd)", ('    text"""',))
    assert ROUTER.route_hunk(closing).rule == "python-process-exec"
