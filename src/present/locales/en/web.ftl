# The web workspace (`vereffen serve`). Dutch twin: ../nl/web.ftl.
web-skip = Skip to the content
web-nav = Workspace
web-inbox = Inbox
web-contracts = Contracts
web-signed-in-as = { $user } ({ $role })
web-logout = Log out
web-login = Log in
web-user = User name
web-password = Password
web-login-wrong = Wrong user name or password.
web-login-too-many = Too many failed logins; try again in a quarter of an hour.
web-csrf-refused = This form has expired or did not come from this workspace; nothing was changed. Reload the page and try again.
web-failed = The node could not answer this request; see its log.
web-message = Message
web-not-found = There is no such page on this node.
web-inbox-empty = Nothing awaits your organisation.
web-inbox-caption = { $n ->
    [one] One item awaits your organisation
   *[other] { $n } items await your organisation
}
web-col-what = What
web-col-ledger = Ledger
web-col-contract = Contract
web-col-year = Year
web-col-party = Party
web-col-title = Title
web-col-parties = Parties
web-col-state = State
web-col-name = Name
web-col-role = Role
web-col-signatory = Signs
web-col-version = Version
web-col-kind = Kind
web-col-offered-by = Offered by
web-contracts-none = This node holds no contracts yet.
web-contracts-caption = { $n ->
    [one] One contract on the ledgers of this node
   *[other] { $n } contracts on the ledgers of this node
}
web-state-in-force = in force (version { $version })
web-state-negotiating = negotiating
web-state-conflict = conflict
web-parties = Parties
web-years = Years: what governs each and where its settlement stands
web-versions = Versions
web-year-settled = settled
web-year-signed = signed by { $parties }
web-year-open = open: not signed yet
web-yes = yes
web-no = no
web-terms = Terms
web-terms-note = The terms as the contract states them (the words of the contract file as written).
web-statement = Statement
web-back-to-contract = Back to the contract
web-standing = This statement
web-downloads = Download
