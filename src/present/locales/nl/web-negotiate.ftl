# De webwerkplek: een contractversie aanvaarden of afwijzen vanaf de
# contractpagina (web/negotiate.rs).

web-neg-heading = Versies die wachten op het besluit van { $party }
web-neg-version = Versie { $version }: { $kind }
web-neg-read-first = Lees eerst de voorwaarden hieronder (en de verschillen met `vereffen contract diff`): aanvaarden ondertekent precies deze versie met de sleutel van de organisatie.
web-neg-accept = Aanvaarden en ondertekenen
web-neg-reject = Afwijzen
web-neg-bad-decision = Het formulier noemde geen besluit (aanvaarden of afwijzen); er is niets ondertekend.
web-neg-no-version = Dit contract heeft geen versie { $version }; laad de pagina opnieuw.
web-act-done-accept = Ondertekend: de versie is aanvaard.
web-act-done-reject = Vastgelegd: de versie is afgewezen.
