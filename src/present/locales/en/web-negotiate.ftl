# The web workspace: accepting or rejecting a contract version from the
# contract page (web/negotiate.rs).

web-neg-heading = Versions awaiting { $party }'s decision
web-neg-version = Version { $version }: { $kind }
web-neg-read-first = Read its terms below (and the differences in `vereffen contract diff`) before you sign: accepting signs this exact version with the organisation's key.
web-neg-accept = Accept and sign
web-neg-reject = Reject
web-neg-bad-decision = The form named no decision (accept or reject); nothing was signed.
web-neg-no-version = This contract has no version { $version }; reload the page.
web-act-done-accept = Signed: the version is accepted.
web-act-done-reject = Recorded: the version is rejected.
