package org.lichen.app

import android.content.BroadcastReceiver
import android.content.Context
import android.content.Intent

/** Starts the service after boot (or an update) when the person left it enabled. */
class BootReceiver : BroadcastReceiver() {
    override fun onReceive(context: Context, intent: Intent) {
        val ok = intent.action == Intent.ACTION_BOOT_COMPLETED || intent.action == Intent.ACTION_MY_PACKAGE_REPLACED
        if (ok && Prefs(context).startOnBoot && context.filesDir.resolve("lichen").exists()) {
            LichenService.start(context)
        }
    }
}
