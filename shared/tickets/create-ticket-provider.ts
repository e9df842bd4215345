import type { Config } from '../config';
import { jiraTickets } from './jira-tickets';
import { serviceNowTickets } from './servicenow-tickets';
import { noTickets, type TicketProvider } from './ticket-provider';
import { webhookTickets } from './webhook-tickets';

/** The ticket system `TICKET_PROVIDER` names; config validation guarantees its settings are present. */
export function createTicketProvider(config: Config): TicketProvider {
  const need = (value: string | undefined, name: string): string => {
    if (value === undefined) {
      throw new Error(`${name} is not set`);
    }
    return value;
  };
  switch (config.TICKET_PROVIDER) {
    case 'servicenow':
      return serviceNowTickets({
        instanceUrl: need(config.SERVICENOW_INSTANCE_URL, 'SERVICENOW_INSTANCE_URL'),
        username: need(config.SERVICENOW_USERNAME, 'SERVICENOW_USERNAME'),
        password: need(config.SERVICENOW_PASSWORD, 'SERVICENOW_PASSWORD'),
      });
    case 'jira':
      return jiraTickets({
        baseUrl: need(config.JIRA_BASE_URL, 'JIRA_BASE_URL'),
        email: need(config.JIRA_EMAIL, 'JIRA_EMAIL'),
        apiToken: need(config.JIRA_API_TOKEN, 'JIRA_API_TOKEN'),
        projectKey: need(config.JIRA_PROJECT_KEY, 'JIRA_PROJECT_KEY'),
        issueType: config.JIRA_ISSUE_TYPE,
      });
    case 'webhook':
      return webhookTickets({ url: need(config.TICKET_WEBHOOK_URL, 'TICKET_WEBHOOK_URL'), secret: need(config.TICKET_WEBHOOK_SECRET, 'TICKET_WEBHOOK_SECRET') });
    case 'none':
      return noTickets;
  }
}
