# Company API keys now live in accounts (accounts.0003 took over the `api_keys` table as it is).

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('integrations', '0002_one_integration_per_type'),
        ('accounts', '0003_company_api_keys'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name='CompanyApiKey')],
            database_operations=[],
        ),
    ]
