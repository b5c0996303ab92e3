"""Demo data: departments, categories, routing rules, people and tickets, as real use makes them.

`flask --app wsgi demo load [--tickets N]` calls `load_demo()`; it only flushes, the CLI commits.

Everything is created through the domain services (create_department, create_user,
create_customer, create_rule, register_ticket, add_message, change_status, transfer_ticket,
record_verdict...), so the rows, events and queued emails are exactly what the application writes.

Demo-only step, on purpose and nowhere else: the services stamp everything with the real clock, so
after a ticket's story has been played its timestamps are *shifted* with direct UPDATEs onto a
simulated timeline spread over the last 60 days (the ticket, its messages, events and outbox rows),
and its protocol number is re-issued for the simulated day (protocol counters are raised to match,
so later registrations never collide). The demo's outbox rows are marked as sent, so that running
the app does not write hundreds of .eml files.

Logins (all documented in README/docs):

    admin@demo.sac        admin123    administrator
    supervisora@demo.sac  super123    supervisor (SAC Geral, Ouvidoria)
    agente@demo.sac       agente123   agent (SAC Geral, Financeiro)
    <name>@demo.sac       agente123   more agents, one or two per department (listed below)
    cliente@demo.sac      cliente123  customer with several demands in different states
"""

from __future__ import annotations

import bisect
import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app

from .accounts.models import Department, User
from .accounts.services import create_department, create_user, get_user_by_email
from .core.clock import as_utc, now
from .customers.documents import make_cpf
from .customers.models import Customer
from .customers.services import create_customer
from .extensions import db
from .notifications.models import OutboxMessage
from .routing.services import create_rule
from .tickets import services as tickets
from .tickets.categories import create_category
from .tickets.models import CHANNELS, STATUSES, Category, Message, ProtocolCounter, Ticket
from .tickets.models import TicketEvent as Event
from .tickets.protocol import format_protocol

DAYS = 60

DEPARTMENTS = [
    # name, description, default, ombudsman
    ("SAC Geral", "Primeiro atendimento de todos os canais.", True, False),
    ("Financeiro", "Cobranças, faturas, boletos, estornos.", False, False),
    ("Suporte Técnico", "Internet, sinal, aplicativo e equipamentos.", False, False),
    ("Logística", "Entregas, trocas e devoluções.", False, False),
    ("Ouvidoria", "Segunda instância: demandas não resolvidas no SAC.", False, True),
]

# key, English name, pt_BR, es, kinds
CATEGORIES = [
    ("info", "Information", "Informação", "Información", ["request"]),
    ("question", "Question", "Dúvida", "Duda", ["request"]),
    ("complaint", "Complaint", "Reclamação", "Reclamo", ["complaint"]),
    (
        "contest",
        "Contestation of a charge",
        "Contestação de cobrança",
        "Impugnación de un cobro",
        ["complaint", "request"],
    ),
    ("suspension", "Suspension", "Suspensão", "Suspensión", ["request", "complaint"]),
    ("cancel", "Cancellation", "Cancelamento", "Cancelación", ["request", "complaint"]),
    ("delivery", "Delivery delay", "Atraso na entrega", "Retraso en la entrega", ["complaint"]),
    (
        "defect",
        "Defective product",
        "Produto com defeito",
        "Producto defectuoso",
        ["complaint", "request"],
    ),
    ("billing", "Billing error", "Erro de faturamento", "Error de facturación", ["complaint"]),
    (
        "suggestion",
        "Suggestion for improvement",
        "Sugestão de melhoria",
        "Sugerencia de mejora",
        ["suggestion"],
    ),
]

# email, name, role, password, departments
STAFF = [
    ("admin@demo.sac", "Renata Albuquerque", "admin", "admin123", []),
    (
        "supervisora@demo.sac",
        "Patrícia Mendes",
        "supervisor",
        "super123",
        ["SAC Geral", "Ouvidoria"],
    ),
    ("agente@demo.sac", "Carlos Souza", "agent", "agente123", ["SAC Geral", "Financeiro"]),
    ("juliana.costa@demo.sac", "Juliana Costa", "agent", "agente123", ["SAC Geral"]),
    ("rafael.lima@demo.sac", "Rafael Lima", "agent", "agente123", ["SAC Geral"]),
    ("beatriz.rocha@demo.sac", "Beatriz Rocha", "agent", "agente123", ["Financeiro"]),
    ("marcos.pereira@demo.sac", "Marcos Pereira", "agent", "agente123", ["Financeiro"]),
    ("tiago.nunes@demo.sac", "Tiago Nunes", "agent", "agente123", ["Suporte Técnico"]),
    ("larissa.alves@demo.sac", "Larissa Alves", "agent", "agente123", ["Suporte Técnico"]),
    ("fernando.dias@demo.sac", "Fernando Dias", "agent", "agente123", ["Logística"]),
    ("camila.freitas@demo.sac", "Camila Freitas", "agent", "agente123", ["Logística"]),
    ("helena.castro@demo.sac", "Helena Castro", "agent", "agente123", ["Ouvidoria"]),
]
DEMO_CUSTOMER = ("cliente@demo.sac", "Maria Aparecida da Silva", "cliente123")

FIRST_NAMES = [
    "Ana",
    "Bruno",
    "Carla",
    "Daniel",
    "Eduarda",
    "Felipe",
    "Gabriela",
    "Henrique",
    "Isabela",
    "João",
    "Karina",
    "Lucas",
    "Mariana",
    "Nicolas",
    "Otávio",
    "Paula",
    "Queila",
    "Rodrigo",
    "Sabrina",
    "Thiago",
    "Vanessa",
    "Vinícius",
    "Aline",
    "Bernardo",
    "Cecília",
    "Diego",
    "Elaine",
    "Fábio",
    "Giovana",
    "Igor",
    "Jéssica",
    "Leonardo",
    "Luana",
    "Mateus",
    "Natália",
    "Pedro",
    "Priscila",
    "Renan",
    "Simone",
    "Wesley",
    "Antônio",
    "Francisca",
    "José",
    "Raimunda",
    "Sebastião",
    "Luzia",
    "Gustavo",
    "Letícia",
    "Caio",
    "Débora",
]
LAST_NAMES = [
    "Silva",
    "Santos",
    "Oliveira",
    "Souza",
    "Rodrigues",
    "Ferreira",
    "Alves",
    "Pereira",
    "Lima",
    "Gomes",
    "Costa",
    "Ribeiro",
    "Martins",
    "Carvalho",
    "Almeida",
    "Lopes",
    "Soares",
    "Fernandes",
    "Vieira",
    "Barbosa",
    "Rocha",
    "Dias",
    "Nascimento",
    "Andrade",
    "Moreira",
    "Nunes",
    "Marques",
    "Machado",
    "Mendes",
    "Freitas",
    "Cardoso",
    "Ramos",
    "Gonçalves",
    "Santana",
    "Teixeira",
]
SPANISH_NAMES = ["Sofía Fernández", "Martín González", "Valentina Rodríguez"]
COMPANIES = [
    "Padaria Pão Dourado Ltda",
    "Mercadinho Bom Preço ME",
    "Clínica Sorriso Odontologia Ltda",
    "Oficina Mecânica Irmãos Reis",
    "Escritório Contábil Prado & Filhos",
    "Restaurante Sabor Mineiro Ltda",
]
KEY_ACCOUNTS = [
    ("Construtora Horizonte S.A.", "juliana.costa@demo.sac"),
    ("Rede de Farmácias Vida Plena S.A.", "rafael.lima@demo.sac"),
    ("Hospital São Lucas Ltda", "agente@demo.sac"),
]
DDDS = ["11", "11", "11", "21", "31", "41", "51", "61", "71", "81", "85", "19", "48"]

# (category key, subject, description, remedy) ----------------------------------------------------
COMPLAINTS = [
    (
        "contest",
        "Cobrança indevida na fatura de março",
        "Minha fatura veio com um serviço de streaming que nunca contratei. Quero o cancelamento e o estorno.",
        "Estorno do valor cobrado",
    ),
    (
        "contest",
        "Boleto pago e cobrado de novo",
        "Paguei o boleto no dia do vencimento e recebi nova cobrança com juros. Tenho o comprovante.",
        "Cancelamento da cobrança duplicada",
    ),
    (
        "billing",
        "Fatura com valor acima do plano",
        "O plano contratado é de R$ 99,90, mas a fatura veio com R$ 149,90 sem explicação.",
        "Correção da fatura",
    ),
    (
        "billing",
        "Desconto prometido não aplicado",
        "No atendimento por telefone me prometeram 30% de desconto por 6 meses e a fatura veio cheia.",
        "Aplicação do desconto combinado",
    ),
    (
        "contest",
        "Tarifa de cartão cobrada sem uso",
        "Estão cobrando anuidade do cartão adicional que eu cancelei em janeiro.",
        "Estorno da anuidade",
    ),
    (
        "delivery",
        "Pedido com atraso na entrega",
        "Comprei uma geladeira com entrega em 5 dias úteis e já se passaram 15. O rastreio não atualiza.",
        "Entrega imediata ou devolução do valor",
    ),
    (
        "delivery",
        "Entrega não realizada e rastreio parado",
        "O rastreio diz 'saiu para entrega' há uma semana e nada chegou.",
        "Entrega do produto",
    ),
    (
        "delivery",
        "Produto entregue no endereço errado",
        "A transportadora entregou meu pedido em outro número da rua. Ninguém assume.",
        "Reenvio do pedido",
    ),
    (
        "defect",
        "Roteador com defeito após uma semana",
        "O roteador novo reinicia sozinho várias vezes por dia e a internet cai.",
        "Troca do equipamento",
    ),
    (
        "defect",
        "Celular chegou com a tela trincada",
        "Abri a caixa na frente do entregador e a tela estava trincada. Tenho fotos.",
        "Troca do aparelho",
    ),
    (
        "defect",
        "Máquina de lavar não centrifuga",
        "A máquina comprada há 20 dias parou de centrifugar. Está na garantia.",
        "Reparo ou troca",
    ),
    (
        "complaint",
        "Internet caindo toda noite",
        "Todos os dias depois das 20h a internet cai e só volta de madrugada. Trabalho em casa.",
        "Solução definitiva e abatimento na fatura",
    ),
    (
        "complaint",
        "Sem sinal de internet há três dias",
        "Estou sem sinal desde sexta-feira. O técnico não apareceu na visita agendada.",
        "Visita técnica e desconto proporcional",
    ),
    (
        "complaint",
        "Aplicativo não deixa pagar a fatura",
        "O aplicativo dá erro ao gerar o código Pix da fatura. Não consigo pagar e vai vencer.",
        "Correção do aplicativo e prorrogação do vencimento",
    ),
    (
        "complaint",
        "Atendimento grosseiro na loja",
        "Fui mal atendido na loja do shopping; a atendente se recusou a registrar minha reclamação.",
        "Retratação",
    ),
    (
        "complaint",
        "Espera de 40 minutos no telefone",
        "Liguei três vezes e fiquei mais de 40 minutos esperando sem ser atendido.",
        "",
    ),
    (
        "cancel",
        "Cancelamento não efetuado",
        "Pedi o cancelamento do plano em fevereiro, recebi protocolo e continuo sendo cobrado.",
        "Cancelamento e devolução das cobranças",
    ),
    (
        "cancel",
        "Multa de cancelamento abusiva",
        "Querem cobrar multa de fidelidade, mas o contrato já passou dos 12 meses.",
        "Cancelamento sem multa",
    ),
    (
        "suspension",
        "Serviço suspenso mesmo com a conta paga",
        "A linha foi suspensa por falta de pagamento, mas a fatura está paga desde o dia 5.",
        "Religação imediata",
    ),
    (
        "suspension",
        "Cartão bloqueado sem aviso",
        "Meu cartão foi bloqueado durante uma viagem sem nenhum aviso prévio.",
        "Desbloqueio do cartão",
    ),
    (
        "billing",
        "Cobrança de juros em fatura paga em dia",
        "Paguei no vencimento pelo aplicativo do banco e vieram juros na fatura seguinte.",
        "Estorno dos juros",
    ),
    (
        "complaint",
        "Velocidade da internet abaixo do contratado",
        "Contratei 500 mega e os testes mostram 80 mega no máximo.",
        "Ajuste da velocidade ou do preço",
    ),
    (
        "defect",
        "Decodificador de TV sem imagem",
        "O decodificador mostra 'sem sinal' em todos os canais desde ontem.",
        "Troca do decodificador",
    ),
    (
        "delivery",
        "Troca prometida e não recolhida",
        "Agendaram a coleta do produto com defeito duas vezes e ninguém veio buscar.",
        "Coleta e troca do produto",
    ),
    (
        "contest",
        "Compra não reconhecida no cartão",
        "Apareceu uma compra de R$ 1.250,00 que não fiz, numa loja que não conheço.",
        "Contestação e estorno da compra",
    ),
]
REQUESTS = [
    (
        "info",
        "Segunda via da fatura",
        "Preciso da segunda via da fatura deste mês; não recebi por e-mail.",
        "",
    ),
    (
        "info",
        "Horário de funcionamento das lojas",
        "Qual o horário da loja do centro aos sábados e feriados?",
        "",
    ),
    (
        "question",
        "Como alterar a data de vencimento",
        "Gostaria de mudar o vencimento da fatura do dia 5 para o dia 20.",
        "",
    ),
    (
        "question",
        "Dúvida sobre o plano de internet",
        "O plano de 300 mega inclui o aluguel do roteador ou é cobrado à parte?",
        "",
    ),
    (
        "question",
        "Como cadastrar débito automático",
        "Quero pagar a fatura por débito automático. Quais bancos são aceitos?",
        "",
    ),
    (
        "info",
        "Informação sobre portabilidade",
        "Quero trazer meu número de outra operadora. Quais documentos preciso?",
        "",
    ),
    (
        "cancel",
        "Pedido de cancelamento do plano",
        "Vou me mudar para o exterior e preciso cancelar o plano a partir do mês que vem.",
        "",
    ),
    (
        "cancel",
        "Cancelar cartão adicional",
        "Quero cancelar o cartão adicional em nome do meu filho.",
        "",
    ),
    (
        "suspension",
        "Suspensão temporária por viagem",
        "Vou passar três meses fora. É possível suspender o serviço nesse período?",
        "",
    ),
    (
        "suspension",
        "Suspender assinatura da revista",
        "Gostaria de suspender a assinatura durante as férias de julho.",
        "",
    ),
    (
        "contest",
        "Pedido de revisão de cobrança",
        "Gostaria que revisassem a cobrança de ligações interurbanas da última fatura.",
        "Revisão da fatura",
    ),
    (
        "info",
        "Status do meu pedido",
        "Fiz um pedido na semana passada e queria saber o prazo de entrega.",
        "",
    ),
    (
        "question",
        "Como redefinir a senha do aplicativo",
        "Não consigo entrar no aplicativo; a recuperação de senha não chega no e-mail.",
        "",
    ),
    (
        "info",
        "Comprovante de quitação anual",
        "Preciso da declaração anual de quitação de débitos para o imposto de renda.",
        "",
    ),
    (
        "question",
        "Troca de titularidade",
        "Meu pai faleceu e preciso passar o contrato para o meu nome. Como faço?",
        "",
    ),
    (
        "defect",
        "Agendar visita técnica",
        "O sinal da TV está falhando. Preciso agendar uma visita técnica.",
        "",
    ),
    (
        "info",
        "Mudança de endereço da instalação",
        "Vou me mudar no dia 15. Como transferir a internet para o novo endereço?",
        "",
    ),
    (
        "question",
        "Dúvida sobre a garantia estendida",
        "A garantia estendida cobre queda do aparelho ou apenas defeito de fábrica?",
        "",
    ),
    (
        "info",
        "Atualização de cadastro",
        "Troquei de e-mail e de telefone. Por favor, atualizem meu cadastro.",
        "",
    ),
    (
        "question",
        "Limite do cartão",
        "Como peço aumento do limite do cartão? Tenho conta há cinco anos.",
        "",
    ),
    (
        "info",
        "Envio de nota fiscal",
        "Não recebi a nota fiscal da compra do notebook. Podem reenviar?",
        "",
    ),
    (
        "question",
        "Parcelamento de fatura em atraso",
        "Estou com duas faturas atrasadas. Posso parcelar o débito?",
        "",
    ),
    (
        "info",
        "Rastreio da entrega",
        "O código de rastreio informado não é reconhecido no site dos Correios.",
        "",
    ),
    (
        "question",
        "Upgrade de plano",
        "Quero aumentar a velocidade da internet. Quais planos estão disponíveis no meu endereço?",
        "",
    ),
    (
        "info",
        "Cancelamento de débito automático",
        "Quero deixar de pagar por débito automático e voltar para o boleto.",
        "",
    ),
]
SUGGESTIONS = [
    (
        "suggestion",
        "Pagamento por Pix no aplicativo",
        "Seria ótimo poder pagar a fatura por Pix direto no aplicativo, sem copiar código.",
        "",
    ),
    (
        "suggestion",
        "Aviso antes da manutenção",
        "Sugiro avisar por SMS antes das manutenções programadas na internet.",
        "",
    ),
    (
        "suggestion",
        "Atendimento por WhatsApp",
        "Poderiam atender pelo WhatsApp? Seria mais prático que o telefone.",
        "",
    ),
    (
        "suggestion",
        "Fatura digital mais clara",
        "A fatura digital poderia separar melhor os serviços adicionais do plano.",
        "",
    ),
    (
        "suggestion",
        "Horário estendido aos sábados",
        "As lojas poderiam abrir até mais tarde aos sábados.",
        "",
    ),
    ("suggestion", "Modo escuro no aplicativo", "Sugestão: incluir modo escuro no aplicativo.", ""),
    (
        "suggestion",
        "Agendamento de entrega por período",
        "Seria bom escolher o período da entrega (manhã ou tarde).",
        "",
    ),
    (
        "suggestion",
        "Programa de fidelidade",
        "Clientes antigos poderiam ter descontos progressivos.",
        "",
    ),
    (
        "suggestion",
        "Chat com atendente humano",
        "O chat do site só tem robô; seria bom poder falar com uma pessoa.",
        "",
    ),
    (
        "suggestion",
        "Embalagens recicláveis",
        "Sugiro usar embalagens recicláveis nas entregas.",
        "",
    ),
    (
        "suggestion",
        "Notificação de fatura no aplicativo",
        "O aplicativo podia avisar quando a fatura fecha.",
        "",
    ),
    (
        "suggestion",
        "Cartão virtual para compras online",
        "Gostaria de ter um cartão virtual temporário para compras na internet.",
        "",
    ),
    (
        "suggestion",
        "Acessibilidade no site",
        "O site não funciona bem com leitor de tela. Sugiro melhorar a acessibilidade.",
        "",
    ),
    (
        "suggestion",
        "Ponto de retirada de pedidos",
        "Poderiam ter lockers para retirar pedidos em estações de metrô.",
        "",
    ),
    (
        "suggestion",
        "Teste de velocidade no aplicativo",
        "Incluir um teste de velocidade da internet no próprio aplicativo.",
        "",
    ),
    (
        "suggestion",
        "Segunda via por SMS",
        "Enviar o código de barras da fatura por SMS ajudaria quem não usa e-mail.",
        "",
    ),
    (
        "suggestion",
        "Atendimento em espanhol",
        "Há muitos clientes hispânicos na região; atendimento em espanhol ajudaria.",
        "",
    ),
    (
        "suggestion",
        "Avaliação do técnico",
        "Depois da visita técnica, seria bom poder avaliar o técnico.",
        "",
    ),
    (
        "suggestion",
        "Entrega aos domingos",
        "Sugiro oferecer entregas aos domingos em São Paulo.",
        "",
    ),
    (
        "suggestion",
        "Histórico de consumo",
        "O aplicativo poderia mostrar gráfico do consumo de dados por mês.",
        "",
    ),
    ("suggestion", "Pausa no plano", "Permitir pausar o plano por um mês sem cancelar.", ""),
    ("suggestion", "Canal para surdos", "Disponibilizar atendimento em Libras por vídeo.", ""),
    (
        "suggestion",
        "Lembrete de vencimento",
        "Mandar lembrete dois dias antes do vencimento da fatura.",
        "",
    ),
    (
        "suggestion",
        "Desconto para fatura digital",
        "Dar desconto para quem aderir à fatura digital.",
        "",
    ),
    (
        "suggestion",
        "Troca na loja física",
        "Permitir trocar produtos comprados no site nas lojas físicas.",
        "",
    ),
]
TEMPLATES = {"complaint": COMPLAINTS, "request": REQUESTS, "suggestion": SUGGESTIONS}

ANSWERS = {
    "contest": [
        "Verificamos a cobrança contestada e confirmamos que ela é indevida. O estorno será feito na próxima fatura.",
        "Analisamos o seu pagamento e localizamos o comprovante. A cobrança em duplicidade foi cancelada.",
        "A contestação foi aberta junto à bandeira do cartão; o valor fica suspenso até a conclusão (até 30 dias).",
    ],
    "billing": [
        "Corrigimos a fatura: o valor do plano foi ajustado e a diferença será creditada na próxima fatura.",
        "O desconto combinado foi aplicado a partir deste mês. Pedimos desculpas pelo transtorno.",
    ],
    "delivery": [
        "Contatamos a transportadora: a entrega foi reagendada para os próximos 2 dias úteis.",
        "Seu pedido foi localizado no centro de distribuição e será reenviado hoje. Novo código de rastreio enviado por e-mail.",
        "A coleta foi reagendada e a troca será enviada assim que o produto chegar ao nosso depósito.",
    ],
    "defect": [
        "Autorizamos a troca do equipamento. Um técnico fará a substituição na visita agendada.",
        "Abrimos a ordem de serviço na assistência técnica autorizada. O prazo de reparo é de até 30 dias.",
    ],
    "complaint": [
        "Identificamos instabilidade na sua região e a equipe técnica já corrigiu o problema. Aplicamos um abatimento proporcional.",
        "Lamentamos a experiência. Seu relato foi encaminhado à gerência da loja e o caso está sendo tratado.",
        "Agendamos uma visita técnica para verificar a instalação. Confirme se o horário é conveniente.",
    ],
    "cancel": [
        "O cancelamento foi efetuado e as cobranças posteriores ao pedido serão devolvidas.",
        "Conforme o contrato, não há multa após 12 meses. O cancelamento foi concluído sem custos.",
    ],
    "suspension": [
        "O serviço foi restabelecido. A suspensão ocorreu por falha na baixa do pagamento; pedimos desculpas.",
        "A suspensão temporária foi programada para o período solicitado, sem cobrança de mensalidade.",
    ],
    "info": [
        "Enviamos as informações solicitadas para o seu e-mail cadastrado.",
        "A segunda via está disponível no portal e no aplicativo, em 'Minhas faturas'.",
        "Seu cadastro foi atualizado com os novos dados.",
    ],
    "question": [
        "A alteração pode ser feita pelo aplicativo em 'Meu plano'. Já deixamos a solicitação registrada para você.",
        "Explicamos o procedimento no e-mail enviado; qualquer dúvida, responda por aqui mesmo.",
        "Sim, é possível. Registramos o pedido e ele será processado em até 5 dias úteis.",
    ],
    "suggestion": [
        "Obrigado pela sugestão! Ela foi encaminhada à equipe de produto para avaliação.",
        "Agradecemos a ideia. Ela já está no planejamento das próximas versões do aplicativo.",
    ],
}
NOTES = [
    "Cliente ligou novamente cobrando retorno.",
    "Verificado no sistema de faturamento: cobrança duplicada confirmada.",
    "Aguardando retorno da transportadora.",
    "Consultei o técnico responsável pela região; há manutenção programada.",
    "Cliente com histórico de reclamações; tratar com prioridade.",
    "Anexar comprovante de pagamento enviado pelo cliente ao processo.",
    "Caso semelhante ao de outro cliente do mesmo bairro.",
]
CUSTOMER_REPLIES = [
    "Obrigado pelo retorno, mas o problema continua.",
    "Segue o número do pedido e o comprovante de pagamento.",
    "Ainda não recebi nenhuma resposta concreta. Preciso de uma solução.",
    "Podem me ligar no período da tarde?",
    "Confirmo o horário da visita.",
]
NOT_RESOLVED = [
    "O problema não foi resolvido: a cobrança continua na fatura.",
    "A entrega não aconteceu na data informada.",
    "O técnico não compareceu. Quero levar o caso à ouvidoria.",
]
RESOLVED_COMMENTS = ["", "", "Resolvido, obrigado!", "Atendimento rápido, parabéns.", ""]
TRANSFER_REASONS = {
    "Financeiro": "Demanda de cobrança: encaminhada ao Financeiro.",
    "Suporte Técnico": "Problema técnico: encaminhado ao Suporte Técnico.",
    "Logística": "Assunto de entrega: encaminhado à Logística.",
    "SAC Geral": "Devolvido ao SAC Geral para contato com o cliente.",
    "Ouvidoria": "Cliente insatisfeito com a solução; encaminhado à Ouvidoria.",
}
OUTCOMES = [
    "Estorno realizado.",
    "Problema corrigido pela equipe técnica.",
    "Informação prestada ao cliente.",
    "Pedido entregue.",
    "Produto trocado.",
]
ROUTE_BY_CATEGORY = {
    "contest": "Financeiro",
    "billing": "Financeiro",
    "delivery": "Logística",
    "defect": "Suporte Técnico",
}


def make_cnpj(base12: str) -> str:
    """Complete twelve digits into a valid CNPJ."""
    weights1 = [5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]
    d = base12
    for weights in (weights1, [6] + weights1):
        rest = sum(int(d[i]) * w for i, w in enumerate(weights)) % 11
        d += str(0 if rest < 2 else 11 - rest)
    return d


def load_demo(tickets: int = 300, seed: int = 2024) -> str:
    """Create the demo world; flush only (the caller commits). Returns a one-line summary."""
    if any(get_user_by_email(email) for email in (STAFF[0][0], DEMO_CUSTOMER[0])):
        return "demo data already loaded: nothing added"
    demo = _Demo(random.Random(seed))
    demo.departments()
    demo.categories()
    demo.staff()
    demo.customers()
    demo.rules()
    demo.tickets(tickets)
    db.session.flush()
    demo.shift_time()
    return (
        f"demo loaded: {len(demo.depts)} departments, {len(demo.cats)} categories, "
        f"{demo.rule_count} routing rules, {len(demo.users)} staff, {len(demo.all_customers)} "
        f"customers, {demo.ticket_count} tickets over {DAYS} days; logins: admin@demo.sac/admin123, "
        "supervisora@demo.sac/super123, agente@demo.sac/agente123, cliente@demo.sac/cliente123"
    )


@dataclass
class _Story:
    """One ticket's life: when it starts, and (real instant -> simulated instant) marks."""

    start: datetime
    marks: list[tuple[datetime, datetime]] = field(default_factory=list)
    ticket: Ticket | None = None

    def to_sim(self, real: datetime | None) -> datetime | None:
        if real is None:
            return None
        real = as_utc(real)
        i = bisect.bisect_right([m[0] for m in self.marks], real) - 1
        r, s = self.marks[max(i, 0)]
        return s + (real - r)


class _Demo:
    def __init__(self, rng: random.Random):
        self.rng = rng
        self.depts: dict[str, Department] = {}
        self.cats: dict[str, Category] = {}
        self.users: dict[str, User] = {}
        self.customers_list: list[Customer] = []
        self.key_accounts: list[Customer] = []
        self.all_customers: list[Customer] = []
        self.demo_user: User | None = None
        self.demo_customer: Customer | None = None
        self.rule_count = 0
        self.ticket_count = 0
        self.stories: list[_Story] = []
        self.now = now()
        self.tz = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])

    # reference data -----------------------------------------------------------------------

    def departments(self) -> None:
        for name, description, default, ombudsman in DEPARTMENTS:
            existing = db.session.scalar(sa.select(Department).where(Department.name == name))
            self.depts[name] = existing or create_department(
                name=name, description=description, is_default=default, is_ombudsman=ombudsman
            )

    def categories(self) -> None:
        for position, (key, name, pt, es, kinds) in enumerate(CATEGORIES, start=1):
            existing = db.session.scalar(sa.select(Category).where(Category.name == name))
            if existing is not None:
                self.cats[key] = existing
            else:
                self.cats[key] = create_category(
                    name=name, name_pt_br=pt, name_es=es, kinds=kinds, position=position * 10
                )

    def staff(self) -> None:
        for email, name, role, password, dept_names in STAFF:
            self.users[email] = create_user(
                email=email,
                name=name,
                role=role,
                password=password,
                departments=[self.depts[d] for d in dept_names],
                locale="pt_BR",
            )
        email, name, password = DEMO_CUSTOMER
        self.demo_user = create_user(
            email=email, name=name, role="customer", password=password, locale="pt_BR"
        )
        self.demo_customer = create_customer(
            name=name,
            email=email,
            phone="+5511987654321",
            document=make_cpf("529982247"),
            user_id=self.demo_user.id,
            locale="pt_BR",
        )

    def customers(self, count: int = 80) -> None:
        rng = self.rng
        used_names: set[str] = set()
        used_phones: set[str] = {"+5511987654321"}

        def phone() -> str:
            while True:
                number = f"+55{rng.choice(DDDS)}9{rng.randint(6, 9)}{rng.randint(0, 9999999):07d}"
                if number not in used_phones:
                    used_phones.add(number)
                    return number

        def cpf() -> str:
            return make_cpf(f"{rng.randint(100000000, 999999999)}")

        n = 0
        while len(self.customers_list) < count - len(COMPANIES) - len(SPANISH_NAMES):
            name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)} {rng.choice(LAST_NAMES)}"
            if name in used_names:
                continue
            used_names.add(name)
            n += 1
            first, last = name.split()[0], name.split()[-1]
            email = _ascii(f"{first}.{last}{n}@example.com").lower()
            self.customers_list.append(
                create_customer(
                    name=name,
                    email=email if rng.random() < 0.9 else None,
                    phone=phone(),
                    document=cpf() if rng.random() < 0.8 else None,
                    locale="pt_BR",
                )
            )
        for name in SPANISH_NAMES:
            n += 1
            email = _ascii(name.replace(" ", ".") + f"{n}@example.net").lower()
            self.customers_list.append(
                create_customer(name=name, email=email, phone=phone(), document=cpf(), locale="es")
            )
        for company in COMPANIES:
            n += 1
            slug = _ascii(company.split()[0]).lower()
            self.customers_list.append(
                create_customer(
                    name=company,
                    email=f"contato@{slug}{n}.example.com",
                    phone=phone(),
                    document=make_cnpj(f"{rng.randint(10000000, 99999999)}0001"),
                    segment="business",
                )
            )
        for company, agent_email in KEY_ACCOUNTS:
            n += 1
            slug = _ascii(company.split()[-2] if len(company.split()) > 2 else company).lower()
            self.key_accounts.append(
                create_customer(
                    name=company,
                    email=f"sac@{slug}{n}.example.com",
                    phone=phone(),
                    document=make_cnpj(f"{rng.randint(10000000, 99999999)}0001"),
                    segment="premium",
                    is_key_account=True,
                    key_account_agent_id=self.users[agent_email].id,
                )
            )
        self.all_customers = [self.demo_customer, *self.customers_list, *self.key_accounts]

    def rules(self) -> None:
        d, c = self.depts, self.cats
        rules = [
            dict(name="Key accounts → gerente dedicado", key_account=True, department_id=d["SAC Geral"].id),
            dict(name="Cancelamento → SAC Geral (alta)", category_id=c["cancel"].id, department_id=d["SAC Geral"].id, priority=3),
            dict(name="Contestação de cobrança → Financeiro", category_id=c["contest"].id, department_id=d["Financeiro"].id),
            dict(name="Erro de faturamento → Financeiro", category_id=c["billing"].id, department_id=d["Financeiro"].id),
            dict(name="Cobrança, fatura, boleto → Financeiro", keywords="cobrança, fatura, boleto", department_id=d["Financeiro"].id),
            dict(name="Entrega, atraso, rastreio → Logística", keywords="entrega, atraso, rastreio", department_id=d["Logística"].id),
            dict(name="Reclamação técnica → Suporte (alta)", kind="complaint", keywords="internet, sinal, aplicativo", department_id=d["Suporte Técnico"].id, priority=3),
            dict(name="Internet, sinal, aplicativo → Suporte Técnico", keywords="internet, sinal, aplicativo", department_id=d["Suporte Técnico"].id),
        ]  # fmt: skip
        for rule in rules:
            create_rule(**rule)
        self.rule_count = len(rules)

    # tickets ------------------------------------------------------------------------------

    def tickets(self, count: int) -> None:
        rng = self.rng
        # the demo customer's own demands, one per state (pending_customer = awaiting verdict)
        own = ["pending_customer", "new", "open", "closed", "resolved", "reopened"]
        own = own[: max(0, min(len(own), count // 10))] if count < 60 else own
        plans: list[tuple[Customer, str | None, str | None]] = [
            (self.demo_customer, status, "web") for status in own
        ]
        for i in range(count - len(plans)):
            # the first ones cover every status and every channel, the rest are random
            status = STATUSES[i] if i < len(STATUSES) else None
            channel = CHANNELS[i % len(CHANNELS)] if i < 2 * len(CHANNELS) else None
            if rng.random() < 0.08:
                customer = rng.choice(self.key_accounts)
            else:
                customer = rng.choice(self.all_customers)
            plans.append((customer, status, channel))
        for customer, status, channel in plans:
            self._play(customer, status, channel)
            self.ticket_count += 1

    def _start_time(self, status: str | None) -> datetime:
        """A working-hours instant in the last 60 days; open demands are mostly recent."""
        rng = self.rng
        recent = status in ("new", "open", "pending_customer", "reopened")
        days = rng.uniform(0, 7) if recent and rng.random() < 0.8 else rng.uniform(0, DAYS)
        local = (self.now - timedelta(days=days)).astimezone(self.tz)
        local = local.replace(hour=rng.randint(8, 19), minute=rng.randint(0, 59))
        start = local.astimezone(self.now.tzinfo)
        if start > self.now - timedelta(minutes=5):
            start = self.now - timedelta(minutes=rng.randint(5, 240))
        return start

    def _status_for_age(self, age: timedelta) -> str:
        weights = (
            {"new": 2, "open": 6, "pending_customer": 6, "resolved": 20, "closed": 60, "reopened": 6}
            if age > timedelta(days=7)
            else {"new": 30, "open": 22, "pending_customer": 22, "resolved": 12, "closed": 6, "reopened": 8}
        )  # fmt: skip
        return self.rng.choices(list(weights), weights=list(weights.values()))[0]

    def _play(self, customer: Customer, status: str | None, channel: str | None) -> None:
        rng = self.rng
        start = self._start_time(status)
        status = status or self._status_for_age(self.now - start)
        channel = channel or rng.choice(CHANNELS)
        if customer is self.demo_customer:
            kind = ["complaint", "request", "complaint", "suggestion", "request", "complaint"][
                len(self.stories) % 6
            ]
        else:
            kind = rng.choices(["complaint", "request", "suggestion"], weights=[50, 40, 10])[0]
        if status == "reopened" and kind == "suggestion":
            kind = "complaint"
        cat_key, subject, description, remedy = rng.choice(TEMPLATES[kind])
        steps = self._script(status, kind, cat_key, customer, channel)
        # scale the gaps so that the story ends before now
        total = sum(gap for gap, _ in steps)
        room = (self.now - start).total_seconds() / 60 - 1
        factor = min(1.0, room / total) if total else 1.0
        story = _Story(start=start)
        sim = start
        register = self._register_step(
            customer, channel, kind, cat_key, subject, description, remedy
        )
        story.marks.append((now(), sim))
        story.ticket = register()
        for gap, step in steps:
            sim += timedelta(minutes=gap * factor)
            story.marks.append((now(), sim))
            step(story.ticket)
        self.stories.append(story)

    def _register_step(self, customer, channel, kind, cat_key, subject, description, remedy):
        staff_channels = ("phone", "chat", "social", "in_person", "letter")
        if channel in staff_channels:
            actor = self.rng.choice(self._members("SAC Geral"))
        elif channel == "api":
            actor = self.users["admin@demo.sac"]
        elif channel == "web":
            actor = customer.user  # None for a customer without a login (guest form)
        else:
            actor = None  # email intake
        category = self.cats[cat_key]

        def register() -> Ticket:
            return tickets.register_ticket(
                actor=actor,
                customer=customer,
                channel=channel,
                kind=kind,
                subject=subject,
                description=description,
                category_id=category.id,
                remedy=remedy,
            )

        return register

    def _members(self, dept_name: str) -> list[User]:
        return [u for u in self.depts[dept_name].members if u.role == "agent"] or [
            self.users["supervisora@demo.sac"]
        ]

    def _worker(self, ticket: Ticket) -> User:
        """Who works the ticket now: its assignee, or an agent of its department."""
        if ticket.assignee is not None and ticket.department in ticket.assignee.departments:
            return ticket.assignee
        return self.rng.choice(self._members(ticket.department.name))

    def _script(
        self, status: str, kind: str, cat_key: str, customer: Customer, channel: str
    ) -> list[tuple[float, Callable[[Ticket], None]]]:
        """Steps after registration as (minutes after the previous step, action)."""
        rng = self.rng
        user = customer.user
        reply_channel = "web" if user else ("email" if customer.emails else "phone")
        steps: list[tuple[float, Callable[[Ticket], None]]] = []

        def note(t: Ticket) -> None:
            tickets.add_message(t, self._worker(t), rng.choice(NOTES), internal=True)

        def take(t: Ticket) -> None:
            worker = self._worker(t)
            if t.assignee_id is None:
                tickets.assign_ticket(t, worker, worker)
            tickets.change_status(t, worker, "open")

        def transfer(t: Ticket) -> None:
            target = ROUTE_BY_CATEGORY.get(cat_key, "SAC Geral")
            if target == t.department.name:
                target = "SAC Geral" if target != "SAC Geral" else "Financeiro"
            actor = self._worker(t)
            tickets.transfer_ticket(t, actor, self.depts[target], TRANSFER_REASONS[target])
            agent = rng.choice(self._members(target))
            tickets.assign_ticket(t, self.users["supervisora@demo.sac"], agent)

        def answer(t: Ticket) -> None:
            body = rng.choice(ANSWERS.get(cat_key) or ANSWERS["question"])
            greeting = f"Olá, {customer.name.split()[0]}! "
            tickets.add_message(
                t, self._worker(t), greeting + body, channel=_answer_channel(channel)
            )

        def customer_reply(t: Ticket) -> None:
            tickets.add_message(t, user, rng.choice(CUSTOMER_REPLIES), channel=reply_channel)

        def resolve(t: Ticket) -> None:
            tickets.change_status(t, self._worker(t), "resolved", outcome=rng.choice(OUTCOMES))

        def verdict_ok(t: Ticket) -> None:
            tickets.record_verdict(
                t, user, resolved=True, rating=rng.choice([3, 4, 4, 5, 5, 5]),
                comment=rng.choice(RESOLVED_COMMENTS),
            )  # fmt: skip

        def verdict_bad(t: Ticket) -> None:
            tickets.record_verdict(
                t,
                user,
                resolved=False,
                rating=rng.choice([1, 1, 2]),
                comment=rng.choice(NOT_RESOLVED),
            )

        def close(t: Ticket) -> None:
            tickets.change_status(t, self._worker(t), "closed")

        def to_ombudsman(t: Ticket) -> None:
            if t.department.name != "Ouvidoria":
                tickets.transfer_ticket(
                    t, self.users["supervisora@demo.sac"], self.depts["Ouvidoria"],
                    TRANSFER_REASONS["Ouvidoria"],
                )  # fmt: skip
                tickets.assign_ticket(
                    t, self.users["supervisora@demo.sac"], self.users["helena.castro@demo.sac"]
                )

        def add(gap_minutes: tuple[int, int], action) -> None:
            steps.append((rng.uniform(*gap_minutes), action))

        # a misrouted ticket gets transferred first (the SAC Geral ones mostly)
        if status != "new" and rng.random() < 0.15:
            add((20, 240), transfer)
        if status == "new":
            if rng.random() < 0.3:
                add((5, 120), note)
            return steps
        add((10, 600), take)
        if rng.random() < 0.35:
            add((10, 300), note)
        if status == "open":
            if rng.random() < 0.4:
                add((60, 1440), customer_reply)
            return steps
        add((60, 2880), answer)  # -> pending_customer
        if status == "pending_customer":
            return steps
        if rng.random() < 0.25:  # the customer writes back, the agent answers again
            add((60, 2880), customer_reply)
            add((30, 1440), answer)
        if status == "reopened":
            add((120, 4320), verdict_bad)
            if rng.random() < 0.5:
                add((30, 600), to_ombudsman)
            return steps
        if rng.random() < 0.5:
            add((120, 4320), verdict_ok)  # -> resolved, with a rating
        else:
            add((10, 600), resolve)
        if status == "closed":
            add((1440, 7200), close)
        return steps

    # time travel (demo only) ----------------------------------------------------------------

    def shift_time(self) -> None:
        """Move every story's rows onto its simulated timeline, with direct UPDATEs."""
        if not self.stories:
            return
        session = db.session
        by_ticket = {s.ticket.id: s for s in self.stories}
        ids = list(by_ticket)
        new_protocols = self._reissue_protocols()

        def shift_rows(model, columns: list[str]) -> list[dict]:
            rows = session.execute(
                sa.select(model.id, model.ticket_id, *[getattr(model, c) for c in columns]).where(
                    model.ticket_id.in_(ids)
                )
            )
            out = []
            for row in rows:
                story = by_ticket[row.ticket_id]
                values = {"_id": row.id}
                for c in columns:
                    values[c] = story.to_sim(getattr(row, c))
                out.append(values)
            return out

        def update(model, rows: list[dict]) -> None:
            if not rows:
                return
            table = model.__table__
            columns = [k for k in rows[0] if k != "_id"]
            stmt = (
                table.update()
                .where(table.c.id == sa.bindparam("_id"))
                .values({c: sa.bindparam(c) for c in columns})
            )
            session.execute(stmt, rows)

        update(Event, shift_rows(Event, ["created_at"]))
        update(Message, shift_rows(Message, ["created_at"]))
        # the outbox rows: timestamps, and the protocol they quote
        outbox = []
        for row in session.execute(
            sa.select(
                OutboxMessage.id, OutboxMessage.ticket_id, OutboxMessage.created_at,
                OutboxMessage.subject, OutboxMessage.body_text, OutboxMessage.body_html,
            ).where(OutboxMessage.ticket_id.in_(ids))
        ):  # fmt: skip
            story = by_ticket[row.ticket_id]
            old, new = story.ticket.protocol, new_protocols[row.ticket_id]
            at = story.to_sim(row.created_at)
            outbox.append(
                {
                    "_id": row.id,
                    "created_at": at,
                    "next_attempt_at": at,
                    "sent_at": at,
                    "subject": row.subject.replace(old, new),
                    "body_text": row.body_text.replace(old, new),
                    "body_html": row.body_html.replace(old, new),
                }
            )
        update(OutboxMessage, outbox)
        ticket_columns = [
            "created_at", "updated_at", "first_response_at", "resolved_at", "closed_at", "rated_at",
        ]  # fmt: skip
        rows = []
        for row in session.execute(
            sa.select(Ticket.id, *[getattr(Ticket, c) for c in ticket_columns]).where(
                Ticket.id.in_(ids)
            )
        ):
            story = by_ticket[row.id]
            values = {"_id": row.id, "protocol": new_protocols[row.id]}
            for c in ticket_columns:
                values[c] = story.to_sim(getattr(row, c))
            rows.append(values)
        update(Ticket, rows)
        # the demo's emails count as delivered: running the app must not send them all now
        session.execute(
            sa.update(OutboxMessage)
            .where(OutboxMessage.status == "pending")
            .values(status="sent", sent_at=sa.func.coalesce(OutboxMessage.sent_at, self.now))
        )
        self._backdate_people()
        session.expire_all()

    def _reissue_protocols(self) -> dict[int, str]:
        """Protocol numbers of the simulated day, after that day's counter; counters raised."""
        session = db.session
        days = {
            s.ticket.id: s.start.astimezone(self.tz).strftime("%Y%m%d")
            for s in sorted(self.stories, key=lambda s: s.start)
        }
        counters = {
            c.day: c.value
            for c in session.scalars(
                sa.select(ProtocolCounter).where(ProtocolCounter.day.in_(set(days.values())))
            )
        }
        issued: dict[int, str] = {}
        used: dict[str, int] = defaultdict(int)
        for ticket_id, day in days.items():
            used[day] = max(used[day], counters.get(day, 0)) + 1
            issued[ticket_id] = format_protocol(day, used[day])
        for day, value in used.items():
            counter = session.get(ProtocolCounter, day)
            if counter is None:
                session.add(ProtocolCounter(day=day, value=value))
            else:
                counter.value = max(counter.value, value)
        session.flush()
        return issued

    def _backdate_people(self) -> None:
        """Staff and customers existed before the tickets: created 3 to 12 months ago."""
        session = db.session
        for model, objects in (
            (User, [*self.users.values(), self.demo_user]),
            (Customer, self.all_customers),
        ):
            rows = [
                {"_id": o.id, "created_at": self.now - timedelta(days=self.rng.randint(90, 365))}
                for o in objects
            ]
            table = model.__table__
            session.execute(
                table.update()
                .where(table.c.id == sa.bindparam("_id"))
                .values(created_at=sa.bindparam("created_at")),
                rows,
            )


def _answer_channel(channel: str) -> str:
    return channel if channel in ("email", "phone", "chat", "social", "letter") else "web"


def _ascii(text: str) -> str:
    import unicodedata

    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
