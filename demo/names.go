package demo

// Word lists for Catalan and Spanish small-firm data.

var firstNames = []string{
	"Laura", "Marc", "Núria", "Jordi", "Montserrat", "Pere", "Anna", "Josep", "Marta", "Joan",
	"Carme", "Xavier", "Mireia", "Oriol", "Laia", "Pau", "Júlia", "Àlex", "Clara", "Albert",
	"María", "José", "Lucía", "Antonio", "Carmen", "Manuel", "Elena", "Francisco", "Isabel", "David",
	"Cristina", "Javier", "Pilar", "Sergio", "Rocío", "Raúl", "Begoña", "Íñigo", "Ainhoa", "Rubén",
	"Sònia", "Ramon", "Eulàlia", "Ferran", "Gemma", "Miquel", "Roser", "Arnau", "Judit", "Andreu",
}

var lastNames = []string{
	"García", "Martí", "Puig", "Ferrer", "Pérez", "Núñez", "Vidal", "Soler", "Roca", "Serra",
	"Font", "Sala", "Costa", "Pujol", "Vila", "Riera", "Casals", "Camps", "Bosch", "Torres",
	"Fernández", "López", "Martínez", "Sánchez", "Gómez", "Ruiz", "Jiménez", "Muñoz", "Álvarez", "Romero",
	"Navarro", "Domínguez", "Gil", "Serrano", "Ortega", "Rubio", "Molina", "Castaño", "Peña", "Ibáñez",
	"Oliveras", "Comas", "Badia", "Prat", "Rovira", "Mas", "Sabaté", "Galí", "Juncà", "Bertran",
}

var towns = []struct{ City, Region, Postal string }{
	{"Barcelona", "Barcelona", "08001"}, {"Girona", "Girona", "17001"}, {"Lleida", "Lleida", "25001"},
	{"Tarragona", "Tarragona", "43001"}, {"Sabadell", "Barcelona", "08201"}, {"Terrassa", "Barcelona", "08221"},
	{"Mataró", "Barcelona", "08301"}, {"Reus", "Tarragona", "43201"}, {"Vic", "Barcelona", "08500"},
	{"Manresa", "Barcelona", "08240"}, {"Figueres", "Girona", "17600"}, {"Olot", "Girona", "17800"},
	{"Granollers", "Barcelona", "08400"}, {"Igualada", "Barcelona", "08700"}, {"Tortosa", "Tarragona", "43500"},
	{"Madrid", "Madrid", "28001"}, {"València", "València", "46001"}, {"Zaragoza", "Zaragoza", "50001"},
	{"Sevilla", "Sevilla", "41001"}, {"Palma", "Illes Balears", "07001"}, {"Bilbao", "Bizkaia", "48001"},
	{"Castelló de la Plana", "Castelló", "12001"}, {"Andorra la Vella", "Andorra", "AD500"},
}

var companyWords = []string{
	"Ferreteria", "Construccions", "Transports", "Distribucions", "Fusteria", "Impremta", "Assessoria",
	"Clínica", "Restaurant", "Hotel", "Talleres", "Suministros", "Instalaciones", "Gestoria", "Farmàcia",
	"Electricitat", "Autoescola", "Floristeria", "Forn", "Celler", "Reformas", "Consultoria", "Òptica",
	"Acadèmia", "Logística", "Paperera", "Tèxtils", "Maquinària", "Ceràmiques", "Enginyeria",
}

var companySuffixes = []string{"SL", "SA", "SCCL", "SLU", "i Fills", "Hermanos", ""}

var positions = []string{
	"Gerent", "Director comercial", "Directora de compres", "Responsable d'administració", "Cap de producció",
	"Tècnic de manteniment", "Administrativa", "Comptable", "Director general", "Responsable de compras",
	"Jefe de ventas", "Encargado de almacén", "Directora financiera", "Responsable de calidad", "Propietari",
}

var activitySubjects = map[string][]string{
	"call":    {"Trucada de seguiment", "Llamada de presentación", "Trucada per confirmar comanda", "Llamada para revisar presupuesto"},
	"email":   {"Enviament de correu electrònic amb nova oferta", "Envío de catálogo", "Correu amb pressupost revisat", "Confirmación de pedido por correo"},
	"meeting": {"Reunió de presentació", "Reunión de seguimiento", "Reunió per negociar condicions", "Demo del producto"},
	"visit":   {"Visita a les instal·lacions", "Visita comercial", "Visita tècnica", "Visita de cortesía"},
	"note":    {"Nota: prefereix contacte per correu", "Nota interna sobre el client", "Nota: pendent de pressupost", "Nota de la fira"},
}

var opportunityWords = []string{"Renovació", "Ampliació", "Instal·lació", "Manteniment anual", "Subministrament", "Projecte", "Contracte", "Pedido", "Licencias", "Formació"}

var caseSubjects = []string{"Factura duplicada", "Retard en l'entrega", "Producte defectuós", "Consulta sobre garantia", "Canvi d'adreça de facturació", "Error en el pedido", "No funciona el TPV", "Sol·licitud de devolució"}

var taskTitles = []string{"Trucar per fer seguiment", "Preparar pressupost", "Enviar contracte", "Revisar comanda", "Llamar para confirmar visita", "Enviar catálogo actualizado", "Preparar la reunió", "Actualitzar dades del client"}

var tagNames = []string{"VIP", "Fira 2025", "Fira 2026", "Compres", "Client Potencial", "Newsletter", "Distribuïdor", "Morós", "Recomanat", "Sector públic"}
