"""Name lists for fictional pupils (common in Flanders and Brussels; combined at random)."""

BOYS = """Noah Arthur Louis Jules Lucas Liam Adam Finn Leon Victor Mats Elias Vic Lewis Milan Jack Oscar
Lars Nand Gust Warre Leo Matteo Bas Ferre Stan Wout Seppe Lander Thibo Kobe Jasper Robbe Senne Tuur
Lowie Rune Wannes Mohamed Yassin Ayoub Amir Rayan Ilyas Youssef Adem Bilal Hamza Emir Mathis Maxime
Hugo Nathan Samuel Jonas Tibo Brent Jarne Gilles Ruben Cas Daan Thomas Pieter Jens Bram Dries Simon
Karel Emiel Staf Mauro Luca Enzo Nino Kasper Niels Vince Toon Ward Felix Sem""".split()

GIRLS = """Olivia Emma Louise Mila Alice Ella Juliette Nora Elena Lina Marie Lena Noor Julia Fleur Hanne
Lotte Lore Febe Nina Sara Ines Amber Yasmine Aya Salma Malak Hiba Sofia Amira Imane Zoë Lisa
Ella-Rose Anna Ellie Camille Charlotte Margot Stien Jana Kato Hanna Axelle Fien Lieze Ona Floor Roos
Jade Luna Emily Mona Nell Tess Laure Janne Elise Lien Silke Kaat Romy Maud Liv Lola Hind Nour
Rania Meryem Elif Zeynep Eva Mira Bo Jill Renée Ilse""".split()

def _last_names() -> list[str]:
    text = """Peeters|Janssens|Maes|Jacobs|Mertens|Willems|Claes|Goossens|Wouters|De Smet|Dubois|Lambert|
Dupont|Hermans|Martens|Aerts|Van Damme|Vermeulen|Pauwels|Michiels|Desmet|Claeys|Verstraete|Van de Velde|
Hendrickx|Smets|Leclercq|Van den Broeck|De Backer|Stevens|Bogaerts|Mahieu|Cools|Vandenberghe|Segers|Geerts|
Verhoeven|Van Dyck|Lemmens|Van Hecke|Coppens|De Clercq|Verbruggen|Moens|Declercq|Vos|Baert|Wuyts|Thys|
Dewilde|Van Acker|Nijs|Gielen|Luyten|Vercammen|Heylen|Bosmans|Huysmans|Van Gorp|Verlinden|De Vos|Engelen|
Vanderstraeten|Boeckx|Van Looy|Sels|Verbeke|Laenen|Nys|Daems|Mariën|Vervoort|Van Loon|Bastiaens|Verheyen|
El Amrani|Benali|El Idrissi|Bouzid|Yilmaz|Kaya|Demir|Nowak|Kowalski|Diallo|Mukendi|Kabongo|Rossi|Ferreira|
Ahmadi|Haddad|Bakkali|Ouali|Tahiri|Aksoy|Popescu|Ivanova|Costa|Da Silva|Nguyen|Ben Salah|Achahbar|
D'Hondt|Van 't Hof|De Wit|Op de Beeck|Van Rompaey|Schoofs|Verreydt|Wellens|Vanhoutte|Sterckx|Coenen|Çelik"""
    return [n.strip() for n in text.replace("\n", "").split("|") if n.strip()]


LAST = _last_names()
