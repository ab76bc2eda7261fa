package org.lichen.app

import android.app.Application
import android.app.NotificationChannel
import android.app.NotificationManager
import android.os.Build

/** Creates the notification channels once per process. */
class LichenApp : Application() {
    override fun onCreate() {
        super.onCreate()
        if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.O) {
            val nm = getSystemService(NotificationManager::class.java)
            nm.createNotificationChannels(
                listOf(
                    NotificationChannel(CH_MESSAGES, getString(R.string.channel_messages), NotificationManager.IMPORTANCE_HIGH)
                        .apply { description = getString(R.string.channel_messages_desc) },
                    NotificationChannel(CH_SERVICE, getString(R.string.channel_service), NotificationManager.IMPORTANCE_MIN)
                        .apply { description = getString(R.string.channel_service_desc); setShowBadge(false) },
                    NotificationChannel(CH_ALERTS, getString(R.string.channel_alerts), NotificationManager.IMPORTANCE_DEFAULT)
                        .apply { description = getString(R.string.channel_alerts_desc) },
                ),
            )
        }
    }

    companion object {
        const val CH_MESSAGES = "messages"
        const val CH_SERVICE = "service"
        const val CH_ALERTS = "alerts"
    }
}
