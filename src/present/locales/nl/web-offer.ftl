# De webwerkplek: contractversies aanbieden (web/offer.rs): voorstellen,
# tegenvoorstellen, wijzigen (eerst bekijken, dan ondertekenen) en intrekken.

web-offer-new = Nieuw contract
web-offer-new-intro = Stel een nieuw contract voor op een van de grootboeken waarin deze node voor een partij tekent: upload het contractbestand (TOML) of plak de tekst. U ziet de voorwaarden voordat u ondertekent.
web-offer-no-ledger = Deze node heeft in geen van zijn grootboeken een sleutel van een geregistreerde partij en kan dus geen contract voorstellen. Partijen en sleutels registreert u met de opdrachtregel.
web-offer-as = als { $party }
web-offer-file = Contractbestand (TOML)
web-offer-paste = Of plak de tekst van het contract
web-offer-text-note = Hoogstens { $mib } MiB. Een gekozen bestand gaat voor geplakte tekst.
web-offer-preview = Bekijken
web-offer-counter = Tegenvoorstel
web-offer-counter-intro = Beantwoord een versie die een andere partij aanbood met eigen voorwaarden: upload het gewijzigde contractbestand of plak de tekst. U ziet de wijzigingen voordat u ondertekent.
web-offer-answers = Antwoord op versie { $version } ({ $kind }).
web-offer-answer-which = Beantwoorde versie
web-offer-amend = Wijziging
web-offer-amend-intro = Stel nieuwe voorwaarden voor het geldende contract (versie { $version }) voor, vanaf een bepaald jaar; het eerste jaar dat nog open is, is { $year }.
web-offer-effective-from = Geldig vanaf (jaar)
web-offer-withdraw = Een aanbod intrekken
web-offer-withdraw-version = Uw aanbod: versie { $version } ({ $kind }), nog niet door iedereen aanvaard.
web-offer-reason-optional = Reden (niet verplicht)
web-offer-withdraw-button = Intrekken en ondertekenen
web-offer-too-large = Het bestand is te groot: een contracttekst is hoogstens { $mib } MiB. Er is niets vastgelegd.
web-offer-not-text = Het veld { $field } is geen UTF-8-tekst. Er is niets vastgelegd.
web-offer-no-target = Het formulier noemde geen versie om te beantwoorden; laad de contractpagina opnieuw. Er is niets vastgelegd.
web-offer-bad-year = "{ $value }" is geen jaartal; geef het eerste contractjaar waarin de wijziging geldt. Er is niets vastgelegd.
web-offer-bad-kind = Het formulier noemde geen soort aanbod (tegenvoorstel of wijziging); laad de contractpagina opnieuw. Er is niets vastgelegd.
web-offer-no-text = Kies een contractbestand of plak de tekst van het contract. Er is niets vastgelegd.
web-offer-invalid = Het contract is niet geldig
web-offer-invalid-count = { $n ->
    [one] Eén probleem; er is niets vastgelegd. Verbeter het en bekijk opnieuw:
   *[other] { $n } problemen; er is niets vastgelegd. Verbeter ze en bekijk opnieuw:
}
web-offer-other-contract = De tekst is van contract { $file }, niet van { $contract }, waarvan dit de pagina is. Er is niets vastgelegd.
web-offer-preview-propose = Bekijken: voorstel van contract { $contract }
web-offer-preview-counter = Bekijken: tegenvoorstel voor contract { $contract }
web-offer-preview-amend = Bekijken: wijziging van contract { $contract } vanaf { $year }
web-offer-version = Deze voorwaarden zijn versie { $version }, in grootboek { $ledger }.
web-offer-nothing-yet = Er is nog niets ondertekend. Lees de voorwaarden hieronder; ondertekenen biedt precies deze versie aan met de sleutel van de organisatie.
web-offer-changes = { $n ->
    [one] Eén wijziging ten opzichte van versie { $version }
   *[other] { $n } wijzigingen ten opzichte van versie { $version }
}
web-offer-sign-heading = Ondertekenen
web-offer-sign-intro = Voer uw wachtwoord in om deze versie te ondertekenen en aan de andere partijen aan te bieden.
web-offer-sign = Ondertekenen en aanbieden
web-offer-cancel = Annuleren: terug zonder te ondertekenen
web-offer-hash-mismatch = De verzonden tekst is niet de tekst die u bekeek; er is niets vastgelegd. Upload het bestand opnieuw en bekijk het.
web-offer-stale = Het contract is veranderd sinds u het bekeek (er kwam een nieuwe versie bij); er is niets vastgelegd. Laad de contractpagina opnieuw, bekijk de nieuwe versie en bekijk uw aanbod opnieuw.
web-offer-done-propose = Ondertekend: het contract is aan de andere partijen voorgesteld.
web-offer-done-counter = Ondertekend: uw tegenvoorstel is aangeboden.
web-offer-done-amend = Ondertekend: de wijziging is aangeboden.
web-offer-done-withdraw = Vastgelegd: uw aanbod is ingetrokken.
