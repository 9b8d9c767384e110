# TAP/KTAP -> one line per test: "PASS|FAIL|SKIP <prefix><name>[: reason]".
# A failure's reason is its first diagnostic line that names the test (the
# harness's "file.c:line:case:Expected ...", qemu_test's "case: Fail: ..."),
# so that the summary at the end of a run, all CI shows, says why.
# -v prefix=P  name prefix;  -v depth=D  indentation of the tests to count
# (KUnit debugfs results: 4; kselftest harness: 0). Results one level deeper
# (a KUnit case's parameters) come before their parent's line and are
# counted instead of it, as <case>.<param>.
function emit(line, pfx,    st, name, reason) {
	st = (line ~ /^not ok/) ? "FAIL" : "PASS"
	sub(/^(not )?ok [0-9]+ /, "", line)
	name = line; reason = ""
	if (match(line, / # SKIP/)) {
		name = substr(line, 1, RSTART - 1)
		reason = ": " substr(line, RSTART + 8)
		st = "SKIP"
	}
	if (st == "FAIL")
		reason = why(name)
	print st, pfx name reason
}
function why(name,    c, i, d) {
	c = name; sub(/.*\./, "", c)
	for (i = 0; i < nd; i++) {
		d = diag[i]
		if (d ~ /^# +(RUN|OK|FAIL) / || index(d, c) == 0)
			continue
		sub(/^# */, "", d)
		return ": " substr(d, 1, 300)
	}
	return ""
}
BEGIN {
	pad = sprintf("%" depth "s", "")
	top = "^" pad "(not )?ok [0-9]+ "
	sub_ = "^" pad "    (not )?ok [0-9]+ "
}
/^ *# / { line = $0; sub(/^ +/, "", line); if (nd < 200) diag[nd++] = line }
$0 ~ sub_ { line = $0; sub(/^ +/, "", line); params[n++] = line; next }
$0 ~ top {
	line = $0; sub(/^ +/, "", line)
	if (n == 0) {
		emit(line, prefix)
		nd = 0
		next
	}
	casename = line
	sub(/^(not )?ok [0-9]+ /, "", casename); sub(/ #.*/, "", casename)
	for (i = 0; i < n; i++)
		emit(params[i], prefix casename ".")
	n = 0
	nd = 0
}
