# De onderhandeling als tijdlijn op de contractpagina van de webwerkplek:
# web/timeline.rs.

tl-heading = Verloop van de onderhandeling
tl-caption = Elke onderhandelingsboeking op deze kopie, in de volgorde waarin het grootboek ze vastlegt
tl-col-when = Wanneer
tl-col-who = Wie
tl-col-what = Wat
tl-col-version = Versie
tl-col-details = Toelichting
tl-offer-signed = het aanbod draagt de handtekening van { $party }
tl-changes-against = Wijzigingen ten opzichte van { $version }:
tl-no-changes = geen wijzigingen in de voorwaarden
tl-unknown-version = de versie waarop het antwoordt staat niet op deze kopie
tl-signed = ondertekend
tl-signed-for = ondertekend namens { $party } op grond van mandaat { $mandate }
tl-rejected = afgewezen
tl-rejected-for = afgewezen namens { $party } op grond van mandaat { $mandate }
tl-withdrawn = ingetrokken
tl-reason = Reden:
tl-mandate = mandaat
tl-mandate-words = { $grantor } machtigt { $grantee } om te { $actions } voor { $contracts }, contractjaren { $first } tot en met { $last }
tl-action-accept = ondertekenen
tl-action-reject = afwijzen
tl-action-and = en
tl-every-contract = elk contract
tl-none = Er staan geen onderhandelingsboekingen op deze kopie.
tl-unreadable = De onderhandelingsboekingen konden niet worden gelezen: { $error }
tl-in-force = Van kracht per contractjaar
tl-col-year = Contractjaar
tl-col-kind = Soort
tl-nothing-in-force = geen versie van kracht
tl-versions = De voorwaarden van elke versie
