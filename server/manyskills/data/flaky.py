"""Flaky-test examples from real test functions, labelled by documented root-cause patterns.

THESE ARE WEAK LABELS. A test is labelled 1 ("flaky") when its code shows a pattern that the
empirical studies of flaky tests (Luo et al., "An Empirical Analysis of Flaky Tests", FSE 2014;
Alshammari et al., FlakeFlagger, ICSE 2021) identify as a common root cause; 0 otherwise. A
labelled test is not known to have failed intermittently, and an unlabelled one is not known to be
stable. Real labels can be read with `readers.read_flakeflagger`.

Categories (`cause`), checked in this order:

* `time`        – sleeping / waiting a fixed time, wall-clock reads that are compared or asserted;
* `random`      – randomness without a fixed seed;
* `network`     – sockets, HTTP clients, URL fetches to hosts other than localhost;
* `concurrency` – threads, executors, `asyncio.gather`, goroutines without synchronisation;
* `order`       – mutation of global / class / process state (test-order dependence);
* `unordered`   – relying on the order of unordered collections or directory listings.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from manyskills.data.records import CorpusFunction, FlakyExample, stable_id
from manyskills.index.languages import family

__all__ = ["CAUSES", "flaky_cause", "make_flaky_examples"]

CAUSES = ("time", "random", "network", "concurrency", "order", "unordered")



def _rx(*patterns: str) -> re.Pattern:
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.MULTILINE)


_ASSERTISH = _rx(r"\bassert", r"\bexpect\s*\(", r"\bshould\b", r"\bt\.(Error|Fatal|Fail)", r"\bREQUIRE\b", r"\bCHECK\b",
                 r"\bEXPECT_", r"\bASSERT_", r"[<>]=?")

# time: sleeping is flaky by itself; clock reads only when something is compared / asserted
_SLEEP = {
    "python": _rx(r"\btime\.sleep\s*\(", r"\basyncio\.sleep\s*\(\s*[^0)]", r"(?<![\w.])sleep\s*\(\s*[^0)]"),
    "ecma": _rx(r"\bsetTimeout\s*\(", r"\bsetInterval\s*\(", r"\bsleep\s*\(\s*\d", r"\bdelay\s*\(\s*\d",
                r"\bwaitForTimeout\s*\("),
    "java": _rx(r"\bThread\.sleep\s*\(", r"\bTimeUnit\.\w+\.sleep\s*\(", r"\.await\s*\(\s*\d", r"\bSystemClock\.sleep"),
    "go": _rx(r"\btime\.Sleep\s*\(", r"\btime\.After\s*\(", r"\btime\.Tick\s*\("),
    "rust": _rx(r"\bthread::sleep\s*\(", r"\bsleep\s*\(\s*Duration", r"tokio::time::sleep"),
    "c": _rx(r"(?<![\w.])u?sleep\s*\(", r"\bnanosleep\s*\(", r"sleep_for\s*\(", r"sleep_until\s*\("),
}
_CLOCK = {
    "python": _rx(r"\bdatetime\.(?:datetime\.)?(?:now|utcnow|today)\s*\(", r"\bdate\.today\s*\(", r"\btime\.(?:time|monotonic|perf_counter)\s*\("),
    "ecma": _rx(r"\bDate\.now\s*\(", r"\bnew Date\s*\(\s*\)", r"\bperformance\.now\s*\("),
    "java": _rx(r"\bSystem\.(?:currentTimeMillis|nanoTime)\s*\(", r"\b(?:LocalDateTime|LocalDate|Instant|ZonedDateTime)\.now\s*\(", r"\bnew Date\s*\(\s*\)"),
    "go": _rx(r"\btime\.Now\s*\(", r"\btime\.Since\s*\("),
    "rust": _rx(r"\bInstant::now\s*\(", r"\bSystemTime::now\s*\("),
    "c": _rx(r"\btime\s*\(\s*(?:NULL|0|nullptr)?\s*\)", r"\bclock\s*\(\s*\)", r"\bgettimeofday\s*\(", r"\bclock_gettime\s*\(",
             r"\bsteady_clock::now\s*\(", r"\bsystem_clock::now\s*\("),
}

_RANDOM = {
    "python": _rx(r"\brandom\.(?:random|randint|randrange|choice|choices|shuffle|sample|uniform|gauss|getrandbits)\s*\(",
                  r"\bnp\.random\.\w+\s*\(", r"\bnumpy\.random\.\w+\s*\(", r"\buuid\.uuid[14]\s*\(", r"\bos\.urandom\s*\(",
                  r"\bsecrets\.\w+\s*\("),
    "ecma": _rx(r"\bMath\.random\s*\(", r"\bcrypto\.random(?:Bytes|UUID|Int)\s*\(", r"\buuid(?:v4)?\s*\(\s*\)", r"\bfaker\."),
    "java": _rx(r"\bnew Random\s*\(\s*\)", r"\bMath\.random\s*\(", r"\bUUID\.randomUUID\s*\(", r"\bThreadLocalRandom\b",
                r"\bnew SecureRandom\s*\("),
    "go": _rx(r"\brand\.(?:Int|Intn|Int63|Int31|Float64|Float32|Perm|Shuffle|Read)\w*\s*\("),
    "rust": _rx(r"\bthread_rng\s*\(", r"\brand::random\b", r"\bOsRng\b", r"\brandom\s*::<"),
    "c": _rx(r"(?<![\w.])rand\s*\(\s*\)", r"\brandom\s*\(\s*\)", r"\brandom_device\b", r"\barc4random"),
}
_SEEDED = {
    "python": _rx(r"\bseed\s*\(", r"\bRandom\s*\(\s*\w", r"default_rng\s*\(\s*\w", r"RandomState\s*\(\s*\w"),
    "ecma": _rx(r"\bseed", r"\bseedrandom"),
    "java": _rx(r"\bnew Random\s*\(\s*\w", r"setSeed\s*\("),
    "go": _rx(r"\brand\.Seed\s*\(", r"\brand\.New\s*\(", r"NewSource\s*\("),
    "rust": _rx(r"seed_from_u64", r"from_seed", r"StdRng::seed"),
    "c": _rx(r"\bsrand\s*\(", r"\bsrandom\s*\(", r"mt19937(?:_64)?\s*\w*\s*[({]\s*\d"),
}

_SOCKET = {
    "python": _rx(r"\bsocket\.(?:socket|create_connection|getaddrinfo|gethostbyname)\s*\(", r"\bsmtplib\.", r"\bftplib\.",
                  r"\bssl\.wrap_socket"),
    "ecma": _rx(r"\bnet\.(?:connect|createConnection|createServer)\s*\(", r"\bnew WebSocket\s*\(", r"\bdgram\.", r"\.listen\s*\(\s*\d"),
    "java": _rx(r"\bnew (?:Server)?Socket\s*\(", r"\bDatagramSocket\b", r"\bSocketChannel\.open", r"\bInetAddress\.getByName\s*\("),
    "go": _rx(r"\bnet\.(?:Dial|DialTimeout|Listen|ListenPacket|LookupHost|ResolveTCPAddr)\s*\("),
    "rust": _rx(r"\bTcpStream::connect", r"\bTcpListener::bind", r"\bUdpSocket::bind", r"\bToSocketAddrs\b"),
    "c": _rx(r"(?<![\w.])socket\s*\(\s*(?:AF_|PF_)", r"\bgetaddrinfo\s*\(", r"\bgethostbyname\s*\(", r"\bcurl_easy_perform\s*\("),
}
_HTTP = {
    "python": _rx(r"\brequests\.(?:get|post|put|delete|head|patch|request|Session)\s*\(", r"\burlopen\s*\(",
                  r"\burllib\.request\.", r"\bhttp\.client\.HTTPS?Connection\s*\(", r"\bhttpx\.(?:get|post|Client|AsyncClient)\s*\(",
                  r"\baiohttp\.ClientSession\s*\("),
    "ecma": _rx(r"(?<![\w.])fetch\s*\(", r"\bhttps?\.(?:get|request)\s*\(", r"\baxios(?:\.\w+)?\s*\(", r"\bsuperagent\b",
                r"\bXMLHttpRequest\b", r"\brequest\s*\(\s*['\"`]https?:"),
    "java": _rx(r"\bnew URL\s*\(", r"\bHttpURLConnection\b", r"\bHttpClient\b", r"\bopenConnection\s*\(", r"\bJsoup\.connect\s*\("),
    "go": _rx(r"\bhttp\.(?:Get|Post|Head|PostForm|NewRequest)\s*\(", r"\bhttp\.DefaultClient\b", r"&http\.Client\b"),
    "rust": _rx(r"\breqwest::", r"\bhyper::Client", r"\bureq::"),
    "c": _rx(r"\bcurl_easy_setopt\s*\("),
}
_URL = re.compile(r"""["'`](?:https?|wss?|ftp)://([^/"'`:\s]+)""")
_LOCAL_HOSTS = {"localhost", "127.0.0.1", "0.0.0.0", "[::1]", "::1", "example.com", "example.org", "testserver"}

_CONCURRENCY = {
    "python": _rx(r"\bthreading\.Thread\s*\(", r"(?<![\w.])Thread\s*\(\s*target", r"\bmultiprocessing\.(?:Process|Pool)\s*\(",
                  r"\b(?:Thread|Process)PoolExecutor\s*\(", r"\basyncio\.(?:gather|wait|as_completed|create_task|ensure_future)\s*\(",
                  r"\bloop\.create_task\s*\(", r"\b_thread\.start_new_thread\s*\("),
    "ecma": _rx(r"\bPromise\.(?:all|race|any|allSettled)\s*\(", r"\bnew Worker\s*\(", r"\bcluster\.fork\s*\(", r"\bchild_process\."),
    "java": _rx(r"\bnew Thread\s*\(", r"\bExecutors\.\w+\s*\(", r"\bExecutorService\b", r"\bCompletableFuture\.", r"\.parallelStream\s*\(",
                r"\bForkJoinPool\b", r"\.submit\s*\("),
    "go": None,  # handled specially: goroutines without sync
    "rust": _rx(r"\bthread::spawn\s*\(", r"\btokio::spawn\s*\(", r"\brayon::", r"\.par_iter\s*\(", r"\bspawn_blocking\s*\("),
    "c": _rx(r"\bpthread_create\s*\(", r"\bstd::thread\b", r"\bstd::async\s*\(", r"(?<![\w:])thread\s+\w+\s*\(", r"\bstd::jthread\b"),
}
_GOROUTINE = re.compile(r"(?m)^\s*go\s+(?:func\b|[\w.]+\s*\()")
_GO_SYNC = re.compile(r"\bsync\.|WaitGroup|<-|\.Wait\s*\(|errgroup|Mutex|atomic\.")

_ORDER = {
    "python": _rx(r"^\s*global\s+\w", r"\bos\.environ\s*\[[^\]]*\]\s*=(?!=)", r"\bos\.environ\.(?:update|setdefault|pop)\s*\(", r"\bos\.putenv\s*\(",
                  r"\bos\.chdir\s*\(", r"\bsys\.path\.(?:append|insert)\s*\(", r"\bsys\.modules\s*\[[^\]]*\]\s*=(?!=)",
                  r"\bcls\.\w+\s*=(?!=)", r"\bself\.__class__\.\w+\s*=(?!=)", r"\bsetattr\s*\(\s*[A-Z]\w*\s*,",
                  r"\bsocket\.setdefaulttimeout\s*\(", r"\blocale\.setlocale\s*\("),
    "ecma": _rx(r"\b(?:global|globalThis|window)\.\w+\s*=(?!=)", r"\bprocess\.env\.\w+\s*=(?!=)", r"\bprocess\.env\[[^\]]+\]\s*=(?!=)",
                r"\bprocess\.chdir\s*\(", r"\bObject\.defineProperty\s*\(\s*(?:global|window)"),
    "java": _rx(r"\bSystem\.setProperty\s*\(", r"\bSystem\.clearProperty\s*\(", r"\bLocale\.setDefault\s*\(", r"\bTimeZone\.setDefault\s*\(",
                r"\bSystem\.set(?:Out|Err|In)\s*\(", r"^\s*[A-Z]\w*\.[a-z]\w*\s*=(?!=)"),
    "go": _rx(r"\bos\.(?:Setenv|Unsetenv|Chdir)\s*\(", r"\bflag\.(?:Set|CommandLine)\b", r"\blog\.SetOutput\s*\("),
    "rust": _rx(r"\benv::set_var\s*\(", r"\benv::remove_var\s*\(", r"\benv::set_current_dir\s*\(", r"\bstatic mut\b"),
    "c": _rx(r"\bsetenv\s*\(", r"\bputenv\s*\(", r"\bunsetenv\s*\(", r"\bchdir\s*\(", r"\bsetlocale\s*\("),
}

_UNORDERED = {
    "python": _rx(r"\bos\.listdir\s*\(", r"\bos\.scandir\s*\(", r"\bglob\.i?glob\s*\(", r"\.iterdir\s*\(\s*\)", r"\.r?glob\s*\(",
                  r"assert\w*\s*\(\s*list\s*\(\s*(?:set|frozenset)\s*\(", r"assert\w*\s*\(\s*list\s*\(\s*\w+\.keys\s*\(",
                  r"assert\w*\s*\(\s*str\s*\(\s*(?:set|frozenset)\s*\(", r"\bnext\s*\(\s*iter\s*\(\s*(?:set|frozenset)\s*\(",
                  r"\blist\s*\(\s*(?:set|frozenset)\s*\([^)]*\)\s*\)\s*(?:\[|==)"),
    "ecma": _rx(r"\bfs\.readdir(?:Sync)?\s*\(", r"\bglob(?:Sync)?\s*\("),
    "java": _rx(r"\.listFiles\s*\(", r"\bFiles\.(?:list|walk|newDirectoryStream)\s*\(",
                r"new Hash(?:Map|Set)\b[^;]*;[\s\S]*(?:\.toString\s*\(\)|\.iterator\s*\(\)|\.keySet\s*\(\)|\.values\s*\(\))[\s\S]*assert"),
    "go": _rx(r"\bfilepath\.Glob\s*\(", r"\bfor\s+\w+(?:\s*,\s*\w+)?\s*:=\s*range\s+\w*(?:[mM]ap|[sS]et)\w*\b[\s\S]*append\s*\("),
    "rust": _rx(r"\bfs::read_dir\s*\(", r"Hash(?:Map|Set)\b[\s\S]*\.(?:iter|keys|values|into_iter)\s*\(\s*\)[\s\S]*assert_eq!\s*\([^;]*vec!"),
    "c": _rx(r"\breaddir\s*\(", r"\bunordered_(?:map|set)\b[\s\S]*\bbegin\s*\(\s*\)[\s\S]*(?:EXPECT|ASSERT|REQUIRE|CHECK)"),
}
_SORTED = {
    "python": _rx(r"\bsorted\s*\(", r"\.sort\s*\("),
    "ecma": _rx(r"\.sort\s*\("),
    "java": _rx(r"\bsort\s*\(", r"\bsorted\s*\(", r"\bTreeSet\b", r"\bTreeMap\b", r"\bcontainsInAnyOrder\b", r"\bcontainsExactlyInAnyOrder\b"),
    "go": _rx(r"\bsort\.", r"\bslices\.Sort", r"ElementsMatch"),
    "rust": _rx(r"\.sort(?:_unstable)?(?:_by(?:_key)?)?\s*\(", r"\bBTreeMap\b", r"\bBTreeSet\b"),
    "c": _rx(r"\bqsort\s*\(", r"\bscandir\s*\(", r"\bstd::sort\s*\("),
}


def _strip_comments(language: str, code: str) -> str:
    if language == "python":
        return re.sub(r"(?m)#.*$", "", code)
    code = re.sub(r"/\*[\s\S]*?\*/", "", code)
    return re.sub(r"(?m)(?<![:\"'])//.*$", "", code)


def flaky_cause(language: str, code: str) -> str:
    """The first documented root-cause pattern found in a test's code, or "" (see module docstring)."""
    fam = family(language)
    if fam not in _SLEEP:
        return ""
    code = _strip_comments(language, code)
    if _SLEEP[fam].search(code):
        return "time"
    if _CLOCK[fam].search(code) and _ASSERTISH.search(code):
        return "time"
    if _RANDOM[fam].search(code) and not _SEEDED[fam].search(code):
        return "random"
    if _SOCKET[fam].search(code):
        return "network"
    if _HTTP[fam].search(code):
        hosts = _URL.findall(code)
        if not hosts or any(h.lower() not in _LOCAL_HOSTS for h in hosts):
            return "network"
    if fam == "go":
        if _GOROUTINE.search(code) and not _GO_SYNC.search(code):
            return "concurrency"
    elif _CONCURRENCY[fam].search(code):
        return "concurrency"
    if _ORDER[fam].search(code):
        return "order"
    if _UNORDERED[fam].search(code) and not _SORTED[fam].search(code):
        return "unordered"
    return ""


def make_flaky_examples(functions: Iterable[CorpusFunction]) -> list[FlakyExample]:
    """One weakly labelled example per test function."""
    out = []
    for fn in functions:
        if not fn.is_test:
            continue
        cause = flaky_cause(fn.language, fn.code)
        out.append(FlakyExample(
            id=stable_id("flaky", fn.id),
            project=fn.project,
            language=fn.language,
            split=fn.split,
            code=fn.code,
            label=1 if cause else 0,
            cause=cause,
        ))
    return out
