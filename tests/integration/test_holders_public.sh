#!/usr/bin/env bash
# The policy's [admin] public_holders (issue 15): off by default, HOLDERS
# is for the admin ACL only; on, every authenticated principal gets the
# very list an admin gets (what lmstat -a shows); REMOVE stays the
# admins'.  Applied by a reread; a bad value is refused with its line.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lifecycle.sh"

license xh 3
R=$XLICEN_REALM
# pol [VALUE]: the policy, with public_holders = VALUE if given.
pol() {
	policy "[admin]
	principals = admin@$R${1:+
	public_holders = $1}"
}
pol
server_start --policy "$T/policy.conf" --orphan-grace 0
DISPLAY=:5 run probe checkout xh
expect_rc 0 "alice's checkout"
ALICE=$RUN_OUT

run as admin xl holders --json
expect_rc 0 "holders by admin"
ADMIN_OUT=$RUN_OUT
expect_contains "$ADMIN_OUT" "\"lease\": \"$ALICE\"" "alice's lease in the admin's list"
expect_contains "$ADMIN_OUT" "\"principal\": \"alice@$R\"" "alice in the admin's list"

# Off (no key): NOT_AUTHORIZED, as before.
run as bob xl holders
expect_rc 2 "holders by bob, option absent"
expect_eq "$RUN_ERR" "xlicen: holders: not authorized: localhost:$SERVER_PORT (127.0.0.1): bob@$R is not on the admin ACL of the server's policy" \
	"bob refused without public_holders"

# On: bob gets exactly the admin's list; remove is still refused.
pol true
run as admin xl reread
expect_rc 0 "reread with public_holders = true"
run as bob xl holders --json
expect_rc 0 "holders by bob, public_holders = true"
expect_eq "$RUN_OUT" "$ADMIN_OUT" "bob's list is the admin's"
run as bob xl holders
expect_rc 0 "holders table by bob"
expect_contains "$RUN_OUT" "alice@$R" "alice in bob's table"
run as bob xl remove "$ALICE"
expect_rc 2 "remove by bob"
expect_eq "$RUN_ERR" "xlicen: remove $ALICE: not authorized: localhost:$SERVER_PORT (127.0.0.1): bob@$R is not on the admin ACL of the server's policy" \
	"remove stays admin-only"

# Explicitly off: refused again.
pol false
run as admin xl reread
expect_rc 0 "reread with public_holders = false"
run as bob xl holders
expect_rc 2 "holders by bob, public_holders = false"
expect_contains "$RUN_ERR" "bob@$R is not on the admin ACL" "bob refused again"

# A bad value: the reread is refused, naming file and line.
pol yes
run as admin xl reread
expect_rc 2 "reread with public_holders = yes"
expect_contains "$RUN_ERR" "$T/policy.conf:3: [admin] public_holders = \"yes\": expected true or false" \
	"the bad value's message"
pass
