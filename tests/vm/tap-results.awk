# TAP/KTAP -> one line per test: "PASS|FAIL|SKIP <prefix><name>[: reason]".
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
	print st, pfx name reason
}
BEGIN {
	pad = sprintf("%" depth "s", "")
	top = "^" pad "(not )?ok [0-9]+ "
	sub_ = "^" pad "    (not )?ok [0-9]+ "
}
$0 ~ sub_ { line = $0; sub(/^ +/, "", line); params[n++] = line; next }
$0 ~ top {
	line = $0; sub(/^ +/, "", line)
	if (n == 0) {
		emit(line, prefix)
		next
	}
	casename = line
	sub(/^(not )?ok [0-9]+ /, "", casename); sub(/ #.*/, "", casename)
	for (i = 0; i < n; i++)
		emit(params[i], prefix casename ".")
	n = 0
}
